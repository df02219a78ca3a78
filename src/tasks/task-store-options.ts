import { InvalidOptionError } from '../errors.js'
import { globToRegExp, positiveInteger } from '../layers/layer-options.js'

/** Options every task store takes; validated by the layer that owns it. */
export interface TaskStoreOptions {
  /** How long a task's state stays readable, and succeeded ids are remembered for idempotency. */
  readonly taskStateRetentionMs: number
  /** Dead letters kept per channel; the oldest go first (counted). */
  readonly deadLetterCapacity: number
  /** Dead letters older than this are purged automatically. */
  readonly deadLetterRetentionMs: number
  /** Channels declared task channels by the layer's options (compiled patterns). */
  readonly taskChannels: readonly RegExp[]
  /** How long a task may wait in its queue before it is dead-lettered as `expired`; undefined: no limit. */
  readonly taskExpiryMs: number | undefined
}

export const DEFAULT_TASK_STORE_OPTIONS: TaskStoreOptions = Object.freeze({
  taskStateRetentionMs: 3_600_000,
  deadLetterCapacity: 10_000,
  deadLetterRetentionMs: 7 * 86_400_000,
  taskChannels: Object.freeze([]),
  taskExpiryMs: undefined,
})

/** The task-store options a layer's constructor accepts next to its own (both built-in layers do). */
export interface TaskStoreLayerOptions {
  /**
   * How long a task's state stays readable after its last change, in milliseconds; also how long a succeeded
   * task is remembered, so a duplicate of it is acked without running.
   * @defaultValue 3_600_000 (one hour)
   */
  readonly taskStateRetentionMs?: number
  /**
   * Dead letters kept per channel; past it the oldest are dropped (counted and logged).
   * @defaultValue 10_000
   */
  readonly deadLetterCapacity?: number
  /**
   * How long a dead letter is kept, in milliseconds.
   * @defaultValue 604_800_000 (seven days)
   */
  readonly deadLetterRetentionMs?: number
  /**
   * Channels whose messages are tasks, by name or pattern (globs as in `channelCapacity`, or RegExps), e.g.
   * `['emails', 'jobs.*']`. A waiting task never expires (see `taskExpiryMs`), and its state reads `queued` from
   * the send. A worker adds the channels its `RetryingConsumer`s serve by itself; declare them here on the layers
   * that only send (web processes), so tasks sent while every worker is down wait for one.
   * @defaultValue none
   */
  readonly taskChannels?: readonly (string | RegExp)[]
  /**
   * How long a task may wait in its channel's queue, in milliseconds; one that waited longer goes to the dead
   * letters with the error `expired` (listed, replayable), never dropped. Retries wait anew.
   * @defaultValue none: tasks wait as long as it takes
   */
  readonly taskExpiryMs?: number
}

/** The option names `resolveTaskStoreOptions` reads: pass them as `resolveLayerOptions`' extra keys. */
export const TASK_STORE_OPTION_KEYS: readonly (keyof TaskStoreOptions)[] = Object.freeze([
  'taskStateRetentionMs',
  'deadLetterCapacity',
  'deadLetterRetentionMs',
  'taskChannels',
  'taskExpiryMs',
])

/**
 * Validates the task-store options among a layer's constructor options (other keys are ignored: the layer's own
 * resolver checks them), fills defaults and freezes the result.
 */
export function resolveTaskStoreOptions(options: TaskStoreLayerOptions | undefined): TaskStoreOptions {
  const given = options ?? {}
  if (typeof given !== 'object' || (given as unknown) === null) {
    throw new InvalidOptionError('options', 'an object', given)
  }
  const defaults = DEFAULT_TASK_STORE_OPTIONS
  return Object.freeze({
    taskStateRetentionMs: positiveInteger(
      'taskStateRetentionMs',
      given.taskStateRetentionMs,
      defaults.taskStateRetentionMs,
    ),
    deadLetterCapacity: positiveInteger('deadLetterCapacity', given.deadLetterCapacity, defaults.deadLetterCapacity),
    deadLetterRetentionMs: positiveInteger(
      'deadLetterRetentionMs',
      given.deadLetterRetentionMs,
      defaults.deadLetterRetentionMs,
    ),
    taskChannels: compileTaskChannels(given.taskChannels),
    taskExpiryMs: given.taskExpiryMs === undefined ? undefined : positiveInteger('taskExpiryMs', given.taskExpiryMs, 0),
  })
}

function compileTaskChannels(value: unknown): readonly RegExp[] {
  if (value === undefined) return Object.freeze([])
  if (!Array.isArray(value)) {
    throw new InvalidOptionError(
      'taskChannels',
      "an array of channel names or patterns, e.g. ['emails', 'jobs.*']",
      value,
    )
  }
  return Object.freeze(
    (value as readonly unknown[]).map((pattern, index) => {
      if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))
      if (typeof pattern !== 'string' || pattern === '') {
        throw new InvalidOptionError(`taskChannels[${index}]`, 'a non-empty glob string or a RegExp', pattern)
      }
      return globToRegExp(pattern)
    }),
  )
}
