// RetryingConsumer's decisions, on the in-memory layer with fake timers: what goes to dead letters at once, what
// retries and when (to the millisecond, jitter injected), timeouts, onFailure, idempotency and the task context.
import { Writable } from 'node:stream'

import { pino } from 'pino'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { NonRetryableError } from '../../src/control.js'
import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import type { FailureInfo } from '../../src/worker/task-runner.js'
import { TaskTimeoutError } from '../../src/errors.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import type { Logger } from '../../src/logger.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'

interface Job {
  readonly type: 'job.run'
  readonly idempotencyKey?: string
}

/** The claim loop polls an empty queue at most every 100 ms: a due retry starts within that. */
const POLL_MS = 100

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

function serve(Consumer: typeof RetryingConsumer, logger?: Logger): InMemoryChannelLayer {
  const layer = new InMemoryChannelLayer()
  const worker = runWorker({
    application: ChannelNameRouter({ jobs: Consumer.asApp() }),
    layer,
    channels: ['jobs'],
    shutdownTimeoutMs: 500,
    ...(logger === undefined ? {} : { logger }),
  })
  started = { layer, worker }
  return layer
}

/** onFailure calls, as plain records. */
function failureLog(): {
  calls: { error: unknown; attempt: number; info: FailureInfo }[]
  hook: (error: unknown, ctx: TaskContext, info: FailureInfo) => Promise<void>
} {
  const calls: { error: unknown; attempt: number; info: FailureInfo }[] = []
  return {
    calls,
    hook: async (error, ctx, info) => {
      calls.push({ error, attempt: ctx.attempt, info })
    },
  }
}

describe('RetryingConsumer (unit, in-memory layer, fake timers)', () => {
  it('sends a NonRetryableError straight to dead letters, after one run, with onFailure told so', async () => {
    const failures = failureLog()
    let runs = 0
    class Strict extends RetryingConsumer {
      static override retry = { maxRetries: 5, initialDelayMs: 10 }
      static override onFailure = failures.hook
      async job_run(): Promise<void> {
        runs++
        throw new NonRetryableError('user 42 was deleted')
      }
    }
    const layer = serve(Strict)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'strict-1' })
    await vi.advanceTimersByTimeAsync(1_000)

    expect(runs).toBe(1)
    expect(failures.calls).toHaveLength(1)
    expect(failures.calls[0]?.error).toBeInstanceOf(NonRetryableError)
    expect(failures.calls[0]?.info).toEqual({ willRetry: false })
    const letters = await layer.tasks.listDeadLetters('jobs')
    expect(letters).toHaveLength(1)
    expect(letters[0]).toMatchObject({ taskId: 'strict-1', attempts: 1, message: { type: 'job.run' } })
    expect(letters[0]?.error).toContain('user 42 was deleted')
    expect(await layer.tasks.getTaskState('strict-1')).toMatchObject({ status: 'dead', attempts: 1 })
  })

  it('sends an error that retryOn refuses straight to dead letters, and retries the others', async () => {
    class PermanentError extends Error {
      override name = 'PermanentError'
    }
    const seen: unknown[] = []
    const runs = new Map<string, number>()
    class Picky extends RetryingConsumer {
      static override retry = { maxRetries: 2, initialDelayMs: 10, factor: 1, maxDelayMs: 10, jitter: 'none' as const }
      static override retryOn(error: unknown): boolean {
        seen.push(error)
        return !(error instanceof PermanentError)
      }
      async job_run(message: Job, ctx: TaskContext): Promise<void> {
        runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1)
        throw message.idempotencyKey === 'permanent' ? new PermanentError('no such user') : new Error('flaky')
      }
    }
    const layer = serve(Picky)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'permanent' })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'transient' })
    await vi.advanceTimersByTimeAsync(2_000)

    expect(runs).toEqual(
      new Map([
        ['permanent', 1],
        ['transient', 3],
      ]),
    )
    expect(seen.filter((error) => error instanceof PermanentError)).toHaveLength(1)
    expect(await layer.tasks.getTaskState('permanent')).toMatchObject({ status: 'dead', attempts: 1 })
    expect(await layer.tasks.getTaskState('transient')).toMatchObject({ status: 'dead', attempts: 3 })
  })

  it('fails an attempt that runs past timeoutMs (aborting its signal) and retries it', async () => {
    const failures = failureLog()
    const signals: AbortSignal[] = []
    class Slow extends RetryingConsumer {
      static override timeoutMs = 100
      static override retry = { maxRetries: 3, initialDelayMs: 50, factor: 1, maxDelayMs: 50, jitter: 'none' as const }
      static override onFailure = failures.hook
      async job_run(_message: Job, ctx: TaskContext): Promise<string> {
        signals.push(ctx.signal)
        if (ctx.attempt > 1) return 'done'
        // Never resolves on its own; honours the signal.
        return await new Promise<string>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reject(ctx.signal.reason as Error)
          })
        })
      }
    }
    const layer = serve(Slow)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'slow-1' })
    await vi.advanceTimersByTimeAsync(99)
    expect(signals).toHaveLength(1)
    expect(signals[0]?.aborted).toBe(false)
    expect(failures.calls).toEqual([])

    await vi.advanceTimersByTimeAsync(1)
    expect(signals[0]?.aborted).toBe(true)
    expect(signals[0]?.reason).toBeInstanceOf(TaskTimeoutError)
    expect(failures.calls).toHaveLength(1)
    expect(failures.calls[0]?.error).toBeInstanceOf(TaskTimeoutError)
    expect(failures.calls[0]?.error).toMatchObject({ code: 'SWY_TASK_TIMEOUT' })
    expect(failures.calls[0]?.info).toEqual({ willRetry: true, delayMs: 50 })

    await vi.advanceTimersByTimeAsync(50 + POLL_MS)
    expect(signals).toHaveLength(2)
    expect(signals[1]?.aborted).toBe(false)
    expect(await layer.tasks.getTaskState('slow-1')).toMatchObject({ status: 'succeeded', attempts: 2 })
    expect((await layer.tasks.getTaskState('slow-1'))?.lastError).toContain('timeoutMs (100 ms)')
  })

  it('fails an attempt past timeoutMs even when its handler ignores the signal', async () => {
    const failures = failureLog()
    class Deaf extends RetryingConsumer {
      static override timeoutMs = 100
      static override retry = { maxRetries: 0 }
      static override onFailure = failures.hook
      async job_run(): Promise<void> {
        await new Promise(() => undefined)
      }
    }
    const layer = serve(Deaf)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'deaf-1' })
    await vi.advanceTimersByTimeAsync(100)
    expect(failures.calls.map((call) => [call.error instanceof TaskTimeoutError, call.info])).toEqual([
      [true, { willRetry: false }],
    ])
    expect(await layer.tasks.getTaskState('deaf-1')).toMatchObject({ status: 'dead', attempts: 1 })
  })

  it('retries on the exact schedule (jitter injected), telling onFailure each delay, then dead-letters', async () => {
    const failures = failureLog()
    const startedAt: number[] = []
    class Doomed extends RetryingConsumer {
      // The default jitter is a ratio (0.2): with random() = 0 every delay is its schedule's lower bound.
      static override retry = { maxRetries: 4, initialDelayMs: 1_000, factor: 3, maxDelayMs: 5_000 }
      static override random = (): number => 0
      static override onFailure = failures.hook
      async job_run(): Promise<void> {
        startedAt.push(Date.now())
        throw new Error('still broken')
      }
    }
    const layer = serve(Doomed)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'doomed-1' })
    await vi.advanceTimersByTimeAsync(20_000)

    const delays = [1_000, 3_000, 5_000, 5_000]
    expect(failures.calls.map((call) => [call.attempt, call.info])).toEqual([
      [1, { willRetry: true, delayMs: 1_000 }],
      [2, { willRetry: true, delayMs: 3_000 }],
      [3, { willRetry: true, delayMs: 5_000 }],
      [4, { willRetry: true, delayMs: 5_000 }],
      [5, { willRetry: false }],
    ])
    expect(startedAt).toHaveLength(5)
    // Each retry starts once its delay has passed, and no later than one poll of the claim loop after.
    startedAt.slice(1).forEach((at, i) => {
      const gap = at - (startedAt[i] ?? 0)
      expect(gap).toBeGreaterThanOrEqual(delays[i] ?? 0)
      expect(gap).toBeLessThanOrEqual((delays[i] ?? 0) + POLL_MS)
    })
    const [letter] = await layer.tasks.listDeadLetters('jobs')
    expect(letter).toMatchObject({ taskId: 'doomed-1', attempts: 5, error: 'Error: still broken' })
    expect(letter?.firstAttemptAt).toBe(startedAt[0])
  })

  it('draws jitter from the injected random source', async () => {
    const failures = failureLog()
    class Jittery extends RetryingConsumer {
      static override retry = {
        maxRetries: 2,
        initialDelayMs: 1_000,
        factor: 2,
        maxDelayMs: 10_000,
        jitter: 'full' as const,
      }
      static override random = (): number => 0.25
      static override onFailure = failures.hook
      async job_run(): Promise<void> {
        throw new Error('broken')
      }
    }
    serve(Jittery)
    await started?.layer.send('jobs', { type: 'job.run' })
    await vi.advanceTimersByTimeAsync(5_000)
    // 'full' jitter: uniform in [0, schedule], here a quarter of 1000 then of 2000.
    expect(failures.calls.map((call) => call.info)).toEqual([
      { willRetry: true, delayMs: 250 },
      { willRetry: true, delayMs: 500 },
      { willRetry: false },
    ])
  })

  it('acks a task whose idempotencyKey already succeeded without running it again', async () => {
    let runs = 0
    class Once extends RetryingConsumer {
      async job_run(): Promise<void> {
        runs++
      }
    }
    const layer = serve(Once)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'welcome-42' })
    await vi.advanceTimersByTimeAsync(200)
    expect(runs).toBe(1)
    expect(await layer.tasks.getTaskState('welcome-42')).toMatchObject({ status: 'succeeded', attempts: 1 })

    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'welcome-42' })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'welcome-43' })
    await vi.advanceTimersByTimeAsync(200)
    expect(runs).toBe(2)
    expect(await layer.tasks.getTaskState('welcome-42')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(await layer.tasks.getTaskState('welcome-43')).toMatchObject({ status: 'succeeded', attempts: 1 })
    // The duplicate was taken off the channel (acked), not left queued or in flight.
    const { worker } = started!
    const stopping = worker.stop()
    await vi.advanceTimersByTimeAsync(1_000)
    await stopping
    expect(await layer.tasks.claim('jobs', 10, 1_000)).toEqual([])
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
  })

  it('gives the handler its attempt, task id, channel and a logger bound to them', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
        callback()
      },
    })
    const contexts: TaskContext[] = []
    class Curious extends RetryingConsumer {
      static override retry = { maxRetries: 1, initialDelayMs: 10, factor: 1, maxDelayMs: 10, jitter: 'none' as const }
      async job_run(_message: Job, ctx: TaskContext): Promise<void> {
        contexts.push(ctx)
        ctx.log.info({ step: 'begin' }, 'job started')
        if (ctx.attempt === 1) throw new Error('first try fails')
      }
    }
    const layer = serve(Curious, pino({ level: 'info' }, sink))
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'curious-1' })
    await vi.advanceTimersByTimeAsync(500)

    expect(contexts.map((ctx) => [ctx.attempt, ctx.taskId, ctx.channel])).toEqual([
      [1, 'curious-1', 'jobs'],
      [2, 'curious-1', 'jobs'],
    ])
    expect(contexts.every((ctx) => ctx.signal instanceof AbortSignal)).toBe(true)
    const logged = lines.filter((line) => line.msg === 'job started')
    expect(logged).toHaveLength(2)
    expect(logged[0]).toMatchObject({ step: 'begin', channel: 'jobs', taskId: 'curious-1', attempt: 1 })
    expect(logged[1]).toMatchObject({ step: 'begin', channel: 'jobs', taskId: 'curious-1', attempt: 2 })
    expect(logged[0]).toHaveProperty('consumer')
  })
})
