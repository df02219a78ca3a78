import { describe, expect, it } from 'vitest'

import { resolveRetryOptions, retryDelayMs } from '../../../src/worker/backoff.js'
import { DEFAULT_RETRY, type RetryOptions } from '../../../src/worker/retry-options.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { seededRandom, testSeed } from '../../support/seeded-random.js'

const ALMOST_ONE = 1 - Number.EPSILON
const low = () => 0
const middle = () => 0.5
const high = () => ALMOST_ONE
// The random draws of the fuzzed cases come from this seed (printed; SWITCHYARD_TEST_SEED replays it).
const seed = testSeed(import.meta.url)

function schedule(options: RetryOptions, attempts: number, random: () => number): number[] {
  return Array.from({ length: attempts }, (_, index) => retryDelayMs(index + 1, options, random))
}

describe('retryDelayMs', () => {
  it('follows the default schedule: 10 s doubling to the 10 min cap, ratio jitter never shortening it', () => {
    expect(schedule(DEFAULT_RETRY, 9, low)).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000,
    ])
  })

  it('spreads the default schedule by up to 20% above it', () => {
    expect(schedule(DEFAULT_RETRY, 7, middle)).toEqual([11_000, 22_000, 44_000, 88_000, 176_000, 352_000, 660_000])
    expect(schedule(DEFAULT_RETRY, 7, high)).toEqual([12_000, 24_000, 48_000, 96_000, 192_000, 384_000, 720_000])
  })

  it('goes past maxDelayMs by at most the ratio, so tasks at the cap still spread out', () => {
    const capped = resolveRetryOptions({ initialDelayMs: 1000, maxDelayMs: 1000, jitter: 0.5 })
    const delays = [0, 0.25, 0.5, 0.75, ALMOST_ONE].map((r) => retryDelayMs(40, capped, () => r))
    expect(delays).toEqual([1000, 1125, 1250, 1375, 1500])
  })

  it("keeps the exact schedule with jitter 'none' whatever the random source says", () => {
    const none = resolveRetryOptions({ initialDelayMs: 100, factor: 3, maxDelayMs: 5000, jitter: 'none' })
    expect(schedule(none, 6, high)).toEqual([100, 300, 900, 2700, 5000, 5000])
    expect(schedule(none, 6, low)).toEqual(schedule(none, 6, high))
  })

  it("picks uniformly in [0, delay] with 'full' jitter", () => {
    const full = resolveRetryOptions({ initialDelayMs: 1000, jitter: 'full' })
    expect(schedule(full, 3, low)).toEqual([0, 0, 0])
    expect(schedule(full, 3, middle)).toEqual([500, 1000, 2000])
    expect(schedule(full, 3, high)).toEqual([1000, 2000, 4000])
  })

  it("picks uniformly in [delay / 2, delay] with 'equal' jitter", () => {
    const equal = resolveRetryOptions({ initialDelayMs: 1000, jitter: 'equal' })
    expect(schedule(equal, 3, low)).toEqual([500, 1000, 2000])
    expect(schedule(equal, 3, middle)).toEqual([750, 1500, 3000])
    expect(schedule(equal, 3, high)).toEqual([1000, 2000, 4000])
  })

  it('rounds fractional delays up to whole milliseconds, never below the lower bound', () => {
    const fractional = resolveRetryOptions({ initialDelayMs: 100, factor: 1.5, maxDelayMs: 1000, jitter: 'none' })
    expect(schedule(fractional, 7, low)).toEqual([100, 150, 225, 338, 507, 760, 1000])
    for (const delay of schedule(
      resolveRetryOptions({ initialDelayMs: 7, factor: 1.3, jitter: 0.1 }),
      30,
      seededRandom(seed, 'fractional delays').next,
    )) {
      expect(Number.isInteger(delay)).toBe(true)
    }
  })

  it('stays within its bounds for every random value in [0, 1)', () => {
    const options = resolveRetryOptions({ initialDelayMs: 250, factor: 2, maxDelayMs: 8000, jitter: 0.3 })
    for (let attempt = 1; attempt <= 10; attempt++) {
      const base = Math.min(8000, 250 * 2 ** (attempt - 1))
      for (const r of [0, 0.1, 0.5, 0.9, ALMOST_ONE]) {
        const delay = retryDelayMs(attempt, options, () => r)
        expect(delay).toBeGreaterThanOrEqual(base)
        expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.3))
      }
    }
  })

  it('copes with attempts far past any sensible retry count, and with a zero initial delay', () => {
    expect(retryDelayMs(100_000, DEFAULT_RETRY, low)).toBe(600_000)
    const instant = resolveRetryOptions({ initialDelayMs: 0, maxDelayMs: 0 })
    expect(retryDelayMs(100_000, instant, high)).toBe(0)
  })

  it('calls the random source once per jittered delay and not at all without jitter', () => {
    let calls = 0
    const counting = () => {
      calls++
      return 0
    }
    retryDelayMs(2, DEFAULT_RETRY, counting)
    expect(calls).toBe(1)
    retryDelayMs(2, resolveRetryOptions({ jitter: 'none' }), counting)
    expect(calls).toBe(1)
  })

  it.each([0, -1, 1.5, Number.NaN, Infinity])('refuses attempt %s', (attempt) => {
    expect(() => retryDelayMs(attempt, DEFAULT_RETRY)).toThrow(InvalidOptionError)
    expect(() => retryDelayMs(attempt, DEFAULT_RETRY)).toThrow(/`attempt` to be a positive integer/)
  })
})

describe('resolveRetryOptions', () => {
  it('returns the frozen defaults for undefined and an empty object', () => {
    expect(resolveRetryOptions(undefined)).toBe(DEFAULT_RETRY)
    const resolved = resolveRetryOptions({})
    expect(resolved).toEqual(DEFAULT_RETRY)
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it('fills in missing fields and treats an explicit undefined as missing', () => {
    const resolved = resolveRetryOptions({ maxRetries: 2, jitter: 'full', factor: undefined })
    expect(resolved).toEqual({ ...DEFAULT_RETRY, maxRetries: 2, jitter: 'full' })
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it('does not keep a reference to the caller object', () => {
    const given = { maxRetries: 1 }
    const resolved = resolveRetryOptions(given)
    given.maxRetries = 50
    expect(resolved.maxRetries).toBe(1)
  })

  it('accepts a zero ratio, a zero delay and a factor of exactly 1', () => {
    expect(resolveRetryOptions({ jitter: 0, initialDelayMs: 0, factor: 1, maxRetries: 0 })).toMatchObject({
      jitter: 0,
      initialDelayMs: 0,
      factor: 1,
      maxRetries: 0,
    })
  })

  it.each<[unknown, string]>([
    [{ maxRetries: -1 }, 'Expected `retry.maxRetries` to be a non-negative integer, got -1'],
    [{ maxRetries: 2.5 }, 'Expected `retry.maxRetries` to be a non-negative integer, got 2.5'],
    [{ initialDelayMs: '10s' }, 'Expected `retry.initialDelayMs` to be a non-negative integer, got "10s"'],
    [{ maxDelayMs: Infinity }, 'Expected `retry.maxDelayMs` to be a non-negative integer, got Infinity'],
    [{ factor: 0.5 }, 'Expected `retry.factor` to be a finite number >= 1, got 0.5'],
    [{ factor: Number.NaN }, 'Expected `retry.factor` to be a finite number >= 1, got NaN'],
    [
      { initialDelayMs: 5000, maxDelayMs: 1000 },
      'Expected `retry.maxDelayMs` to be at least `retry.initialDelayMs` (5000), got 1000',
    ],
    [
      { jitter: 'random' },
      "Expected `retry.jitter` to be 'none', 'full', 'equal' or a finite ratio >= 0, got \"random\"",
    ],
    [{ jitter: -0.1 }, "Expected `retry.jitter` to be 'none', 'full', 'equal' or a finite ratio >= 0, got -0.1"],
    [{ maxRetry: 3 }, 'Expected `retry.maxRetry` to be absent (RetryOptions has maxRetries, initialDelayMs, factor'],
    [null, 'Expected `retry` to be an object of RetryOptions fields, got null'],
    [[1, 2], 'Expected `retry` to be an object of RetryOptions fields, got an array'],
  ])('refuses %j naming the field', (given, message) => {
    const error = captureError(() => resolveRetryOptions(given as Partial<RetryOptions>))
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect((error as InvalidOptionError).code).toBe('SWY_INVALID_OPTION')
    expect((error as Error).message).toContain(message)
  })
})

function captureError(run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
