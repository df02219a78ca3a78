import { InvalidOptionError } from '../../errors.js'
import type { Message } from '../../layers/channel-layer.js'
import { assertChannelName } from '../../layers/names.js'
import { prepareStoredMessage } from '../stored-message.js'
import { parseCron } from './parse-cron.js'

/** What a schedule does after every worker was down past one or more ticks. */
export type CatchUp = 'one' | 'none'

/** The second argument of `layer.tasks.schedule(id, options)`: exactly one of `everyMs` and `cron`. */
export interface ScheduleOptions {
  /** The channel each tick sends `message` to (usually a RetryingConsumer's). */
  readonly channel: string
  /** Sent on each tick, as by `layer.send`, with the `idempotencyKey` `schedule:<id>:<tick ms>`. */
  readonly message: Message
  /** Fire every this many milliseconds (at least 1000), counted from the call. */
  readonly everyMs?: number
  /** A five- or six-field cron expression (seconds first when six), parsed by croner. */
  readonly cron?: string
  /**
   * The IANA time zone `cron` is read in, e.g. `Europe/Paris`.
   * @defaultValue `UTC`
   */
  readonly timezone?: string
  /**
   * After every worker was down past ticks: `'one'` fires once for all of them, `'none'` skips to the next tick.
   * @defaultValue `'one'`
   */
  readonly catchUp?: CatchUp
}

/** A schedule's validated definition, as stored. */
export interface ScheduleSpec {
  readonly channel: string
  readonly message: Message
  readonly everyMs?: number
  readonly cron?: string
  readonly timezone?: string
  readonly catchUp: CatchUp
}

/** Shortest `everyMs`: workers poll due schedules about once a second. */
export const MIN_EVERY_MS = 1000

/** What a schedule id may be: safe in a Redis key, a URL and a terminal. */
export const SCHEDULE_ID = /^[A-Za-z0-9._-]{1,100}$/

export function assertScheduleId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    throw new InvalidOptionError('id', 'a schedule id of 1 to 100 letters, digits, `.`, `_` or `-`', id)
  }
}

/** Validates `schedule()`'s arguments once; the result is frozen and JSON-safe (it is stored as JSON). */
export function resolveScheduleOptions(id: unknown, options: unknown): ScheduleSpec {
  assertScheduleId(id)
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'an object', options)
  const given = options as Partial<Record<keyof ScheduleOptions, unknown>>
  assertChannelName(given.channel)
  const message = prepareStoredMessage(given.message, 'message', 'a schedule')
  const catchUp = given.catchUp ?? 'one'
  if (catchUp !== 'one' && catchUp !== 'none') throw new InvalidOptionError('catchUp', "'one' or 'none'", catchUp)
  if ((given.everyMs === undefined) === (given.cron === undefined)) {
    throw new InvalidOptionError('everyMs', 'given when `cron` is not (exactly one of the two)', given.everyMs)
  }
  if (given.everyMs !== undefined) {
    const everyMs = given.everyMs
    if (typeof everyMs !== 'number' || !Number.isSafeInteger(everyMs) || everyMs < MIN_EVERY_MS) {
      throw new InvalidOptionError('everyMs', `an integer of at least ${MIN_EVERY_MS}`, everyMs)
    }
    if (given.timezone !== undefined) throw new InvalidOptionError('timezone', 'given only with `cron`', given.timezone)
    return Object.freeze({ channel: given.channel, message, everyMs, catchUp })
  }
  const cron = given.cron
  if (typeof cron !== 'string') throw new InvalidOptionError('cron', 'a cron expression string', cron)
  const timezone = given.timezone ?? 'UTC'
  if (typeof timezone !== 'string' || !isTimeZone(timezone)) {
    throw new InvalidOptionError('timezone', 'an IANA time zone such as `Europe/Paris`', timezone)
  }
  try {
    parseCron(cron, timezone)
  } catch (error) {
    throw new InvalidOptionError('cron', 'a valid cron expression', cron, { cause: error })
  }
  return Object.freeze({ channel: given.channel, message, cron, timezone, catchUp })
}

function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone })
    return true
  } catch {
    return false
  }
}
