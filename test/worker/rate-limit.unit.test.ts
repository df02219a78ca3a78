// Rate limits on the in-memory layer with fake timers (issue 17 item 2): the sliding window itself, a
// RetryingConsumer's `static rateLimit` (starts per window, waiting without polling), and RateLimitedError (the
// task goes back after retryAfterMs without counting an attempt).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { RateLimitedError } from '../../src/errors.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { resolveRateLimit } from '../../src/tasks/rate-limit.js'
import { SlidingWindows } from '../../src/tasks/sliding-window.js'
import type { TaskContext } from '../../src/worker/retry-options.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'

let started: { layer: InMemoryChannelLayer; worker: WorkerHandle } | undefined

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(async () => {
  if (started !== undefined) {
    const stopping = started.worker.stop()
    await vi.advanceTimersByTimeAsync(1_000)
    await stopping
    await started.layer.close()
    started = undefined
  }
  vi.useRealTimers()
})

function serve(Consumer: typeof RetryingConsumer): InMemoryChannelLayer {
  const layer = new InMemoryChannelLayer()
  const worker = runWorker({
    application: ChannelNameRouter({ jobs: Consumer.asApp() }),
    layer,
    channels: ['jobs'],
    shutdownTimeoutMs: 500,
  })
  started = { layer, worker }
  return layer
}

describe('SlidingWindows', () => {
  it('lets max starts into any perMs window and says when the next slot opens', () => {
    const windows = new SlidingWindows()
    windows.declare('jobs', { max: 2, perMs: 1_000 })
    expect(windows.available('jobs', 0)).toBe(2)
    windows.record('jobs', 0, 1)
    windows.record('jobs', 400, 1)
    expect(windows.available('jobs', 500)).toBe(0)
    expect(windows.waitMs('jobs', 500)).toBe(500)
    // A start leaves the window exactly perMs later: starts at 0 and 1 000 are never in one 1 s window.
    expect(windows.available('jobs', 999)).toBe(0)
    expect(windows.available('jobs', 1_000)).toBe(1)
    expect(windows.waitMs('jobs', 1_000)).toBe(0)
    expect(windows.available('other', 0)).toBe(Infinity)
    windows.declare('jobs', undefined)
    expect(windows.available('jobs', 1_000)).toBe(Infinity)
  })
})

describe('resolveRateLimit', () => {
  it('freezes a valid limit and names the field of a bad one', () => {
    expect(Object.isFrozen(resolveRateLimit({ max: 20, perMs: 1_000 }))).toBe(true)
    expect(resolveRateLimit(undefined)).toBeUndefined()
    expect(() => resolveRateLimit({ max: -1, perMs: 1_000 })).toThrow('Expected `rateLimit.max` to be an integer')
    expect(() => resolveRateLimit({ max: 1, perMs: 0 })).toThrow('Expected `rateLimit.perMs` to be an integer')
    expect(() => resolveRateLimit({ max: 1, perMs: 1, burst: 2 })).toThrow('`rateLimit.burst`')
    expect(() => resolveRateLimit(5)).toThrow('Expected `rateLimit` to be an object')
  })
})

describe('RetryingConsumer static rateLimit', () => {
  it('starts at most max tasks per window, and the rest wait for the window, not for a poll', async () => {
    const starts: number[] = []
    class Limited extends RetryingConsumer {
      static override rateLimit = { max: 3, perMs: 1_000 }
      static override concurrency = 10
      // A slow idle poll: only the rate-limit wait can start the next tasks on time.
      static override idlePollMs = 60_000
      async job_run(): Promise<void> {
        starts.push(Date.now())
      }
    }
    const layer = serve(Limited)
    const t0 = Date.now()
    for (let i = 0; i < 7; i++) await layer.send('jobs', { type: 'job.run', idempotencyKey: `k-${i}` })
    await vi.advanceTimersByTimeAsync(50)
    expect(starts).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(900)
    expect(starts).toHaveLength(3)
    // Waiting for the window does not hold up settling: the three that ran are recorded as succeeded.
    const states = await Promise.all([0, 1, 2, 3].map((n) => layer.tasks.getTaskState(`k-${n}`)))
    expect(states.map((state) => state?.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'queued'])
    await vi.advanceTimersByTimeAsync(150)
    expect(starts).toHaveLength(6)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(starts).toHaveLength(7)
    for (let i = 3; i < starts.length; i++)
      expect((starts[i] as number) - (starts[i - 3] as number)).toBeGreaterThanOrEqual(1_000)
    expect((starts[3] as number) - t0).toBeLessThan(1_100)
  })

  it('refuses a bad rateLimit when the worker starts it', async () => {
    class Bad extends RetryingConsumer {
      static override rateLimit = { max: 0, perMs: 1_000 }
    }
    const layer = new InMemoryChannelLayer()
    const app = Bad.asApp()
    const run = app(
      { type: 'channel', channel: 'jobs', channelLayer: layer } as never,
      () => new Promise(() => undefined),
      async () => undefined,
    )
    await expect(run).rejects.toThrow('Expected `rateLimit.max`')
    await layer.close()
  })
})

describe('RateLimitedError', () => {
  it('sends the task back after retryAfterMs without counting an attempt, however often', async () => {
    const seen: { attempt: number; at: number }[] = []
    class Throttled extends RetryingConsumer {
      static override retry = { maxRetries: 0 }
      async job_run(_message: unknown, ctx: TaskContext): Promise<void> {
        seen.push({ attempt: ctx.attempt, at: Date.now() })
        if (seen.length <= 3) throw new RateLimitedError(2_000)
      }
    }
    const layer = serve(Throttled)
    const t0 = Date.now()
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'r-1' })
    await vi.advanceTimersByTimeAsync(50)
    expect(await layer.tasks.getTaskState('r-1')).toMatchObject({ status: 'retrying', attempts: 0 })
    await vi.advanceTimersByTimeAsync(1_900)
    expect(seen).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(5_000)
    // maxRetries 0: a counted failure would have dead-lettered it after the first run.
    expect(seen.map((entry) => entry.attempt)).toEqual([1, 1, 1, 1])
    expect((seen[1]?.at ?? 0) - t0).toBeGreaterThanOrEqual(2_000)
    expect(await layer.tasks.getTaskState('r-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(await layer.tasks.listDeadLetters('jobs')).toEqual([])
  })

  it('counts the attempt when retryAfterMs is not an integer from 0 to a day', async () => {
    const seen: number[] = []
    class BadHeader extends RetryingConsumer {
      static override retry = { maxRetries: 0 }
      async job_run(_message: unknown, ctx: TaskContext): Promise<void> {
        seen.push(ctx.attempt)
        throw new RateLimitedError(Number.NaN)
      }
    }
    const layer = serve(BadHeader)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'r-2' })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(seen).toEqual([1])
    expect(await layer.tasks.getTaskState('r-2')).toMatchObject({ status: 'dead', attempts: 1 })
  })
})
