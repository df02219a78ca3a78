import { InvalidOptionError } from '../errors.js'
import { globToRegExp, nonNegativeInteger, positiveInteger } from './option-values.js'
import { defaultLogger, type Logger } from '../logger.js'
import type { SendOptions } from './channel-layer.js'
import { compileHistoryRules, type HistoryOptions, type HistoryRule } from './history/history-options.js'
import {
  PRESENCE_OPTION_KEYS,
  resolvePresenceOptions,
  type ResolvedPresenceOptions,
} from './presence/presence-types.js'

/** Capacity per channel-name pattern: a glob (`jobs.*`, fnmatch rules) or a RegExp, first match wins. */
export type ChannelCapacity =
  Readonly<Record<string, number>> | readonly (readonly [pattern: string | RegExp, capacity: number])[]

/** Options every channel-layer backend accepts. */
export interface LayerOptions {
  /**
   * Messages a channel holds before `send` throws `ChannelFullError` (and `groupSend` skips it).
   * @defaultValue 100
   */
  readonly capacity?: number
  /**
   * How long an unread message lives, in milliseconds.
   * @defaultValue 60_000
   */
  readonly expiryMs?: number
  /**
   * How long a group membership lives after its last `groupAdd`, in milliseconds.
   * @defaultValue 86_400_000 (one day)
   */
  readonly groupExpiryMs?: number
  /**
   * Capacity overrides by channel-name pattern, e.g. `{ tiny: 1, 'jobs.*': 1000 }`; first match wins.
   * @defaultValue none
   */
  readonly channelCapacity?: ChannelCapacity
  /**
   * Largest message accepted, measured as its msgpack encoding, in bytes.
   * @defaultValue 1_048_576 (1 MiB)
   */
  readonly maxMessageBytes?: number
  /**
   * Group history by group pattern, first match wins: `{ 'chat.*': { size: 100, ttlMs: 300_000 } }` keeps the
   * last 100 messages of each `chat.*` group, each for at most 5 minutes. Their messages carry `__position__` and
   * `groupAdd` can `recover`. Every process sharing the groups needs the same value.
   * @defaultValue none
   */
  readonly history?: HistoryOptions
  /**
   * Groups with presence, by pattern (globs as `channelCapacity`): `['chat.*']`.
   * @defaultValue none
   */
  readonly presence?: readonly string[]
  /**
   * Members one group's presence list holds; `presence.join` beyond it throws `PresenceFullError`.
   * @defaultValue 10_000
   */
  readonly maxPresence?: number
  /**
   * Largest presence `info`, measured as its msgpack encoding, in bytes.
   * @defaultValue 1_024
   */
  readonly maxPresenceInfoBytes?: number
  /**
   * pino logger for drops and warnings; never given payloads.
   * @defaultValue Switchyard's stderr logger (level from `SWITCHYARD_LOG_LEVEL`)
   */
  readonly logger?: Logger
}

export { globToRegExp, nonNegativeInteger, positiveInteger } from './option-values.js'

export const DEFAULT_LAYER_OPTIONS = Object.freeze({
  capacity: 100,
  expiryMs: 60_000,
  groupExpiryMs: 86_400_000,
  maxMessageBytes: 1_048_576,
})

export interface CapacityRule {
  readonly pattern: RegExp
  readonly capacity: number
}

export interface ResolvedLayerOptions extends ResolvedPresenceOptions {
  readonly capacity: number
  readonly expiryMs: number
  readonly groupExpiryMs: number
  readonly maxMessageBytes: number
  readonly channelCapacity: readonly CapacityRule[]
  readonly history: readonly HistoryRule[]
  readonly logger: Logger
}

const COMMON_KEYS = [
  'capacity',
  'expiryMs',
  'groupExpiryMs',
  'channelCapacity',
  'maxMessageBytes',
  'history',
  'logger',
  ...PRESENCE_OPTION_KEYS,
]

// Django settings use seconds under these names; a ported config should fail loudly, not run 1000x too short.
const RENAMED_KEYS: Readonly<Record<string, string>> = {
  expiry: 'expiryMs (milliseconds)',
  group_expiry: 'groupExpiryMs (milliseconds)',
  groupExpiry: 'groupExpiryMs (milliseconds)',
  channel_capacity: 'channelCapacity',
}

/**
 * Validates the options shared by every backend, fills defaults, compiles capacity patterns once and freezes the
 * result. `extraKeys` are the backend's own option names, which it validates itself.
 */
export function resolveLayerOptions(
  options: LayerOptions | undefined,
  extraKeys: readonly string[] = [],
): ResolvedLayerOptions {
  const given = (options ?? {}) as Readonly<Record<string, unknown>>
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new InvalidOptionError('options', 'an object', given)
  }
  for (const key of Object.keys(given)) {
    if (COMMON_KEYS.includes(key) || extraKeys.includes(key)) continue
    const hint = RENAMED_KEYS[key]
    throw new InvalidOptionError(
      key,
      hint === undefined ? 'absent (unknown option)' : `renamed: use ${hint}`,
      given[key],
    )
  }
  return Object.freeze({
    capacity: positiveInteger('capacity', given.capacity, DEFAULT_LAYER_OPTIONS.capacity),
    expiryMs: positiveInteger('expiryMs', given.expiryMs, DEFAULT_LAYER_OPTIONS.expiryMs),
    groupExpiryMs: positiveInteger('groupExpiryMs', given.groupExpiryMs, DEFAULT_LAYER_OPTIONS.groupExpiryMs),
    maxMessageBytes: positiveInteger('maxMessageBytes', given.maxMessageBytes, DEFAULT_LAYER_OPTIONS.maxMessageBytes),
    channelCapacity: compileCapacityRules(given.channelCapacity),
    history: compileHistoryRules(given.history),
    ...resolvePresenceOptions(given),
    logger: resolveLogger(given.logger),
  })
}

/** The capacity of `channel`: the first matching `channelCapacity` rule, else `capacity`. */
export function capacityFor(options: ResolvedLayerOptions, channel: string): number {
  for (const rule of options.channelCapacity) {
    if (rule.pattern.test(channel)) return rule.capacity
  }
  return options.capacity
}

/** The validated `delayMs` of a `send` (0 when absent): every backend's `send` calls this before anything else. */
export function sendDelayMs(options: SendOptions | undefined): number {
  if (options === undefined) return 0
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new InvalidOptionError('options', 'an object such as { delayMs: 1000 }', options)
  }
  return nonNegativeInteger('delayMs', options.delayMs, 0)
}

function compileCapacityRules(value: unknown): readonly CapacityRule[] {
  if (value === undefined) return Object.freeze([])
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('channelCapacity', 'an object of pattern -> capacity', value)
  }
  const entries: readonly unknown[] = Array.isArray(value) ? value : Object.entries(value)
  const rules = entries.map((entry, index): CapacityRule => {
    if (!Array.isArray(entry) || entry.length !== 2) {
      throw new InvalidOptionError(`channelCapacity[${index}]`, 'a [pattern, capacity] pair', entry)
    }
    const [pattern, capacity] = entry as [unknown, unknown]
    const label = `channelCapacity[${typeof pattern === 'string' ? JSON.stringify(pattern) : index}]`
    if (!(pattern instanceof RegExp) && (typeof pattern !== 'string' || pattern.length === 0)) {
      throw new InvalidOptionError(label, 'a non-empty glob string or a RegExp', pattern)
    }
    return Object.freeze({
      pattern: pattern instanceof RegExp ? stripStatefulFlags(pattern) : globToRegExp(pattern),
      capacity: positiveInteger(label, capacity, 0),
    })
  })
  return Object.freeze(rules)
}

// A /g or /y RegExp keeps lastIndex between test() calls and would match every other time.
function stripStatefulFlags(pattern: RegExp): RegExp {
  return pattern.global || pattern.sticky ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : pattern
}

function resolveLogger(value: unknown): Logger {
  if (value === undefined) return defaultLogger()
  if (typeof value !== 'object' || value === null || typeof (value as { warn?: unknown }).warn !== 'function') {
    throw new InvalidOptionError('logger', 'a pino logger', value)
  }
  return value as Logger
}
