// TaskRunner's shutdown edge: a claim still on its way when stop() is called must start nothing; its tasks go back
// to the queue uncounted, and a duplicate of a task that already succeeded is acked, its success kept (a release
// would reset it to `queued` and the duplicate would run again). On both task stores.
import { randomBytes } from 'node:crypto'

import { pino } from 'pino'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import { resolveRetryOptions } from '../../src/worker/backoff.js'
import { TaskRunner } from '../../src/worker/task-runner.js'
import type { ChannelLayer } from '../../src/layers/channel-layer.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { TaskCapableLayer } from '../../src/tasks/task-store.js'
import { waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
const open: ChannelLayer[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const layer of open.splice(0)) {
    await layer.flush()
    await layer.close()
  }
})

/** A runner on `jobs` with 30 s visibility and timeout, default retries and silent logs. */
function makeRunner(
  store: TaskCapableLayer['tasks'],
  concurrency: number,
  handle: ConstructorParameters<typeof TaskRunner>[0]['handle'],
): TaskRunner {
  return new TaskRunner({
    store,
    channel: 'jobs',
    concurrency,
    visibilityMs: 30_000,
    timeoutMs: 30_000,
    retry: resolveRetryOptions({}),
    storeResults: false,
    log: pino({ level: 'silent' }),
    retryOn: () => true,
    random: Math.random,
    handle,
    onFailure: async () => undefined,
  })
}

const makers: [string, () => ChannelLayer & TaskCapableLayer][] = [
  ['memory', () => new InMemoryChannelLayer()],
  ['redis', () => new RedisChannelLayer({ hosts: [redisUrl], prefix: `w${randomBytes(6).toString('hex')}` })],
]

/** Promise.withResolvers, which Node 20 lacks. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

describe.each(makers)('TaskRunner.stop() during a claim (%s)', (_name, makeLayer) => {
  it('starts nothing it claimed after stop(), releases fresh tasks and acks duplicates', async () => {
    const layer = makeLayer()
    open.push(layer)
    const store = layer.tasks
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'done-1' })
    const [first] = await store.claim('jobs', 1, 30_000)
    await store.ack(first!)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'done-1' })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'fresh-1' })

    const settle = store.settle.bind(store)
    const gate = deferred()
    const claimCalled = deferred()
    vi.spyOn(store, 'settle').mockImplementationOnce(async (...args) => {
      claimCalled.resolve()
      await gate.promise
      return settle(...args)
    })
    const handled: string[] = []
    const runner = makeRunner(store, 4, async (_message, ctx) => {
      handled.push(ctx.taskId)
    })
    const running = runner.run()
    await claimCalled.promise
    await runner.stop(1_000)
    gate.resolve()
    await running

    expect(handled).toEqual([])
    expect(runner.stats).toMatchObject({ processed: 0, failed: 0, inFlight: 0 })
    expect(await store.getTaskState('done-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(await store.getTaskState('fresh-1')).toMatchObject({ status: 'queued', attempts: 0 })
    // Nothing left in flight; the fresh task is queued again (the duplicate was acked, so it is gone).
    expect(await store.recoverStalled('jobs')).toBe(0)
    const again = await store.claim('jobs', 10, 30_000)
    expect(again.map((task) => [task.taskId, task.attempt, task.alreadySucceeded])).toEqual([['fresh-1', 1, false]])
  })
})

describe.each(makers)('TaskRunner.stop() with prefetched claims (%s)', (_name, makeLayer) => {
  it('returns the claims waiting for a slot uncounted, and lets the running ones finish', async () => {
    const layer = makeLayer()
    open.push(layer)
    const store = layer.tasks
    // Short attempts first, so the runner pipelines (prefetches), then long ones that fill both slots.
    for (let i = 0; i < 8; i++) await layer.send('jobs', { type: 'job.run', idempotencyKey: `quick-${i}` })
    for (let i = 0; i < 6; i++) await layer.send('jobs', { type: 'job.run', idempotencyKey: `slow-${i}` })
    const gate = deferred()
    const handled: string[] = []
    const runner = makeRunner(store, 2, async (_message, ctx) => {
      handled.push(ctx.taskId)
      if (ctx.taskId.startsWith('slow-')) await gate.promise
    })
    const running = runner.run()
    // Two long attempts running and two claims prefetched behind them.
    // (Four quick claims settling at once also make four in flight, under load: wait for the slow ones too.)
    const slowRunning = (): number => handled.filter((id) => id.startsWith('slow-')).length
    await waitFor('claims to be prefetched', () => slowRunning() === 2 && runner.stats.inFlight === 4, {
      timeoutMs: 5_000,
      intervalMs: 5,
    })
    const stopped = runner.stop(5_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    await stopped
    await running

    const slow = handled.filter((id) => id.startsWith('slow-'))
    expect(slow).toHaveLength(2)
    expect(runner.stats).toMatchObject({ processed: 10, failed: 0, inFlight: 0 })
    for (const id of slow) expect(await store.getTaskState(id)).toMatchObject({ status: 'succeeded', attempts: 1 })
    const queued = ['slow-0', 'slow-1', 'slow-2', 'slow-3'].filter((id) => !slow.includes(id))
    expect(queued).toHaveLength(2)
    // The prefetched claims went back without counting an attempt, and none is left in flight.
    for (const id of queued) expect(await store.getTaskState(id)).toMatchObject({ status: 'queued', attempts: 0 })
    expect(await store.recoverStalled('jobs')).toBe(0)
    const again = await store.claim('jobs', 10, 30_000)
    expect(again.map((task) => task.attempt)).toEqual([1, 1, 1, 1])
    expect(again.map((task) => task.taskId).sort()).toEqual([...queued, 'slow-4', 'slow-5'].sort())
  })
})

describe.each(makers)('TaskRunner.stop() with task events on their way (%s)', (_name, makeLayer) => {
  it('waits for the end of a finished task to be announced before it returns, up to graceMs', async () => {
    const layer = makeLayer()
    open.push(layer)
    const store = layer.tasks
    const gate = deferred()
    const announced: string[] = []
    vi.spyOn(store, 'sendTaskEvent').mockImplementation(async (event) => {
      await gate.promise
      announced.push(event.type)
    })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'ends-1' })
    const runner = makeRunner(store, 1, async () => undefined)
    const running = runner.run()
    await waitFor('the task to succeed', () => runner.stats.processed === 1, { timeoutMs: 5_000, intervalMs: 5 })
    // The attempt is over and its slot free: only the announcement is left.
    expect(runner.stats.inFlight).toBe(0)
    let stopped = false
    const stopping = runner.stop(5_000).then(() => {
      stopped = true
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(stopped).toBe(false)
    gate.resolve()
    await stopping
    await running
    expect(announced).toEqual(['task.succeeded'])
  })
})
