import { InvalidOptionError } from '../errors.js'

/**
 * A channel's global rate limit: at most `max` task starts in any `perMs` window, for all workers of the channel
 * together (issue 17 item 2). Enforced by the task store where claims happen; tasks over it wait in the queue.
 */
export interface RateLimit {
  /** Most tasks started in any one window. */
  readonly max: number
  /** The window, ms. */
  readonly perMs: number
}

/** The longest window a rate limit may have: one day. */
const MAX_RATE_LIMIT_WINDOW_MS = 86_400_000
/** The most starts per window: the store keeps one entry per start in the window. */
const MAX_RATE_LIMIT_STARTS = 100_000

/** Validates a `static rateLimit` (undefined: no limit) and returns it frozen. */
export function resolveRateLimit(value: unknown): RateLimit | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('rateLimit', 'an object `{ max, perMs }` or undefined', value)
  }
  const { max, perMs, ...rest } = value as Record<string, unknown>
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined)
    throw new InvalidOptionError(`rateLimit.${unknown}`, 'absent (unknown field)', rest[unknown])
  if (!isIntegerIn(max, 1, MAX_RATE_LIMIT_STARTS)) {
    throw new InvalidOptionError('rateLimit.max', `an integer from 1 to ${MAX_RATE_LIMIT_STARTS}`, max)
  }
  if (!isIntegerIn(perMs, 1, MAX_RATE_LIMIT_WINDOW_MS)) {
    throw new InvalidOptionError('rateLimit.perMs', `an integer from 1 to ${MAX_RATE_LIMIT_WINDOW_MS}`, perMs)
  }
  return Object.freeze({ max, perMs })
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
}
