/**
 * Retry delays: pure functions of the attempt, the options and an injectable random source, so schedules are
 * testable to the millisecond (as in p-retry and centrifuge-js).
 */
import { InvalidOptionError } from '../errors.js'
import { DEFAULT_RETRY, type RetryOptions } from './retry-options.js'

const RETRY_FIELDS: readonly (keyof RetryOptions)[] = ['maxRetries', 'initialDelayMs', 'factor', 'maxDelayMs', 'jitter']

/**
 * How long to wait before the next attempt, in whole milliseconds, once attempt `attempt` (1 for the first run)
 * failed. The schedule is `min(maxDelayMs, initialDelayMs * factor ** (attempt - 1))`; jitter then picks a delay:
 *
 * - `'none'`: the schedule itself.
 * - `'full'`: uniform in [0, schedule].
 * - `'equal'`: uniform in [schedule / 2, schedule].
 * - a ratio r: uniform in [schedule, schedule * (1 + r)]. `maxDelayMs` caps the schedule, not this spread, so a
 *   delay may reach `maxDelayMs * (1 + r)`: capping the spread as well would send every task that reached the cap
 *   back at the same instant, which is what jitter is for.
 *
 * Fractional delays are rounded up, so a delay is never shorter than its lower bound.
 *
 * @example
 * ```ts
 * retryDelayMs(1, DEFAULT_RETRY, () => 0) // 10_000
 * retryDelayMs(3, DEFAULT_RETRY, () => 0) // 40_000
 * retryDelayMs(9, DEFAULT_RETRY, () => 0) // 600_000 (capped)
 * retryDelayMs(9, DEFAULT_RETRY, () => 0.5) // 660_000 (ratio jitter 0.2 may go past the cap)
 * ```
 */
export function retryDelayMs(attempt: number, options: RetryOptions, random: () => number = Math.random): number {
  const raw: unknown = attempt
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1) {
    throw new InvalidOptionError('attempt', 'a positive integer (1 for the first run)', raw)
  }
  const { initialDelayMs, factor, maxDelayMs, jitter } = options
  // 0 * Infinity is NaN: a zero initial delay stays zero however far the factor grows.
  const schedule = initialDelayMs === 0 ? 0 : Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1))
  const [low, high] = jitterRange(schedule, jitter)
  if (high === low) return Math.ceil(low)
  return Math.ceil(low + random() * (high - low))
}

function jitterRange(schedule: number, jitter: RetryOptions['jitter']): readonly [low: number, high: number] {
  switch (jitter) {
    case 'none':
      return [schedule, schedule]
    case 'full':
      return [0, schedule]
    case 'equal':
      return [schedule / 2, schedule]
    default:
      return [schedule, schedule * (1 + jitter)]
  }
}

/**
 * Fills `DEFAULT_RETRY` in for missing fields, validates every field (an `InvalidOptionError` names it, e.g.
 * `retry.factor`) and freezes the result. Unknown fields are refused, so a typo such as `maxRetry` is not ignored.
 *
 * @example
 * ```ts
 * resolveRetryOptions({ maxRetries: 3, jitter: 'full' })
 * // { maxRetries: 3, initialDelayMs: 10_000, factor: 2, maxDelayMs: 600_000, jitter: 'full' }
 * resolveRetryOptions({ factor: 0.5 }) // throws: Expected `retry.factor` to be a finite number >= 1, got 0.5
 * ```
 */
export function resolveRetryOptions(partial: Partial<RetryOptions> | undefined): RetryOptions {
  const given: unknown = partial
  if (given === undefined) return DEFAULT_RETRY
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionError('retry', 'an object of RetryOptions fields', given)
  }
  for (const [key, value] of Object.entries(given)) {
    if (!(RETRY_FIELDS as readonly string[]).includes(key)) {
      throw new InvalidOptionError(`retry.${key}`, `absent (RetryOptions has ${RETRY_FIELDS.join(', ')})`, value)
    }
  }
  const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined))
  const options: RetryOptions = { ...DEFAULT_RETRY, ...defined }
  checkInteger('maxRetries', options.maxRetries)
  checkInteger('initialDelayMs', options.initialDelayMs)
  checkInteger('maxDelayMs', options.maxDelayMs)
  const factor: unknown = options.factor
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new InvalidOptionError('retry.factor', 'a finite number >= 1', factor)
  }
  if (options.maxDelayMs < options.initialDelayMs) {
    throw new InvalidOptionError(
      'retry.maxDelayMs',
      `at least \`retry.initialDelayMs\` (${options.initialDelayMs})`,
      options.maxDelayMs,
    )
  }
  const jitter: unknown = options.jitter
  const isRatio = typeof jitter === 'number' && Number.isFinite(jitter) && jitter >= 0
  if (!isRatio && jitter !== 'none' && jitter !== 'full' && jitter !== 'equal') {
    throw new InvalidOptionError('retry.jitter', "'none', 'full', 'equal' or a finite ratio >= 0", jitter)
  }
  return Object.freeze(options)
}

function checkInteger(field: keyof RetryOptions, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(`retry.${field}`, 'a non-negative integer', value)
  }
}
