/**
 * Issue 13's reproductions, on both layers: tasks that wait longer than the layer's message expiry still run; a
 * task past `taskExpiryMs` is dead-lettered as `expired`, never dropped; a task reads `queued` from its send; a
 * malformed task dies at once with a coded error instead of using up its retries.
 */
import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it } from 'vitest'

import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import type { TaskStoreLayerOptions } from '../../src/tasks/task-store-options.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { sleep, waitFor } from '../support/wait.js'

type TaskLayer = InMemoryChannelLayer | RedisChannelLayer
type LayerOptions = TaskStoreLayerOptions & { readonly expiryMs?: number; readonly capacity?: number }

const redisUrl = inject('redisUrl')
const opened: { layers: TaskLayer[]; workers: WorkerHandle[] }[] = []

afterEach(async () => {
  for (const { layers, workers } of opened.splice(0)) {
    for (const worker of workers) await worker.stop()
    for (const layer of layers) {
      await layer.flush()
      await layer.close()
    }
  }
})

/** Layers of one backend sharing their channels (on Redis: one prefix), like a web process and a worker process. */
function backend(kind: 'memory' | 'redis'): {
  layer: (options?: LayerOptions) => TaskLayer
  serve: (layer: TaskLayer, Consumer: typeof RetryingConsumer, channel?: string) => WorkerHandle
} {
  const prefix = `nl${randomBytes(5).toString('hex')}`
  const entry = { layers: [] as TaskLayer[], workers: [] as WorkerHandle[] }
  opened.push(entry)
  let memory: InMemoryChannelLayer | undefined
  return {
    layer: (options = {}) => {
      // One process holds the in-memory layer: its sender and its worker are the same layer.
      if (kind === 'memory') memory ??= new InMemoryChannelLayer(options)
      const layer = kind === 'memory' ? memory! : new RedisChannelLayer({ hosts: [redisUrl], prefix, ...options })
      if (!entry.layers.includes(layer)) entry.layers.push(layer)
      return layer
    },
    serve: (layer, Consumer, channel = 'jobs') => {
      const worker = runWorker({
        application: ChannelNameRouter({ [channel]: Consumer.asApp() }),
        layer,
        channels: [channel],
        shutdownTimeoutMs: 1_000,
      })
      entry.workers.push(worker)
      return worker
    },
  }
}

describe.each(['memory', 'redis'] as const)('tasks are never lost (%s layer)', (kind) => {
  it('runs every task of a backlog that waits longer than the layer expiryMs', async () => {
    const ran: number[] = []
    class Slow extends RetryingConsumer {
      static override concurrency = 1
      async job_run(message: { type: 'job.run'; n: number }): Promise<void> {
        await sleep(40)
        ran.push(message.n)
      }
    }
    const { layer, serve } = backend(kind)
    const shared = layer({ expiryMs: 300 })
    serve(shared, Slow)
    await waitFor('the worker to declare its channel', () => shared.tasks.isTaskChannel('jobs'))
    for (let n = 0; n < 20; n++) await shared.send('jobs', { type: 'job.run', n })
    // 20 tasks of 40 ms one at a time: the last waits about 800 ms, well past the 300 ms expiry.
    await waitFor('every task to run', () => ran.length === 20, { timeoutMs: 10_000 })
    expect(ran).toEqual([...Array(20).keys()])
    expect(shared.stats().expired).toBe(0)
    expect(await shared.tasks.listDeadLetters('jobs')).toEqual([])
  })

  it('keeps tasks sent while no worker runs, past the expiry, for the worker that starts later', async () => {
    const ran: string[] = []
    class Mailer extends RetryingConsumer {
      async email_send(message: { type: 'email.send'; idempotencyKey: string }): Promise<void> {
        ran.push(message.idempotencyKey)
      }
    }
    const { layer, serve } = backend(kind)
    // A web process that declares the channel: no worker has ever run.
    const web = layer({ expiryMs: 200, taskChannels: ['emails', 'jobs.*'] })
    for (const key of ['a', 'b', 'c']) await web.send('emails', { type: 'email.send', idempotencyKey: key })
    expect(await web.tasks.getTaskState('a')).toMatchObject({ taskId: 'a', channel: 'emails', status: 'queued' })
    await sleep(500)
    expect(await web.tasks.getTaskState('b')).toMatchObject({ status: 'queued', attempts: 0 })
    serve(layer({ expiryMs: 200 }), Mailer, 'emails')
    await waitFor('the three tasks', () => ran.length === 3, { timeoutMs: 5_000 })
    expect(ran).toEqual(['a', 'b', 'c'])
    expect(await web.tasks.getTaskState('c')).toMatchObject({ taskId: 'c', status: 'succeeded', attempts: 1 })
  })

  it('dead-letters a task that waited past taskExpiryMs as `expired`, and a replay runs it', async () => {
    const ran: string[] = []
    class Jobs extends RetryingConsumer {
      async job_run(message: { type: 'job.run'; idempotencyKey: string }): Promise<void> {
        ran.push(message.idempotencyKey)
      }
    }
    const { layer, serve } = backend(kind)
    const shared = layer({ taskChannels: ['jobs'], taskExpiryMs: 150 })
    await shared.send('jobs', { type: 'job.run', idempotencyKey: 'late-1' })
    await shared.send('jobs', { type: 'job.run', idempotencyKey: 'late-2' })
    await sleep(300)
    serve(shared, Jobs)
    await waitFor('two dead letters', async () => (await shared.tasks.listDeadLetters('jobs')).length === 2)
    const letters = await shared.tasks.listDeadLetters('jobs')
    expect(letters.map((letter) => [letter.taskId, letter.error, letter.attempts]).sort()).toEqual([
      ['late-1', 'expired', 0],
      ['late-2', 'expired', 0],
    ])
    expect(letters[0]?.stack).toMatch(/longer than taskExpiryMs \(150 ms\)/)
    expect(await shared.tasks.getTaskState('late-1')).toMatchObject({ status: 'dead', lastError: 'expired' })
    expect(ran).toEqual([])

    expect(await shared.tasks.replayDeadLetters('jobs')).toBe(2)
    await waitFor('the replayed tasks', () => ran.length === 2, { timeoutMs: 5_000 })
    expect(ran.sort()).toEqual(['late-1', 'late-2'])
  })

  it('kills a task whose type no handler takes at once, with its code, without retries', async () => {
    let runs = 0
    class Jobs extends RetryingConsumer {
      static override retry = { maxRetries: 5, initialDelayMs: 10 }
      async job_run(_message: unknown, _ctx: TaskContext): Promise<void> {
        runs++
      }
    }
    const { layer, serve } = backend(kind)
    const shared = layer()
    serve(shared, Jobs)
    await shared.send('jobs', { type: 'job.unknown', idempotencyKey: 'stray' })
    await shared.send('jobs', { type: 'job.run', idempotencyKey: 'fine' })
    await waitFor('the dead letter', async () => (await shared.tasks.listDeadLetters('jobs')).length === 1)
    const [letter] = await shared.tasks.listDeadLetters('jobs')
    expect(letter).toMatchObject({ taskId: 'stray', attempts: 1 })
    expect(letter?.error).toMatch(/^UnknownMessageTypeError \(SWY_UNKNOWN_MESSAGE_TYPE\): No handler for message type/)
    await waitFor('the good task', async () => (await shared.tasks.getTaskState('fine'))?.status === 'succeeded')
    expect(runs).toBe(1)
    expect(await shared.tasks.getTaskState('stray')).toMatchObject({ status: 'dead', attempts: 1 })
  })
})

describe.each(['memory', 'redis'] as const)('idle workers wake on new work (%s layer)', (kind) => {
  it('runs a task sent to an idle worker at once, long before its next poll, and a due retry too', async () => {
    const started: { key: string; attempt: number; at: number }[] = []
    class Jobs extends RetryingConsumer {
      // The fallback poll is far away: only a wake-up can start these tasks within the test's bounds.
      static override idlePollMs = 60_000
      static override retry = { maxRetries: 1, initialDelayMs: 300, factor: 1, jitter: 'none' as const }
      async job_run(message: { type: 'job.run'; idempotencyKey: string }, ctx: TaskContext): Promise<void> {
        started.push({ key: message.idempotencyKey, attempt: ctx.attempt, at: Date.now() })
        if (message.idempotencyKey === 'flaky' && ctx.attempt === 1) throw new Error('once')
      }
    }
    const { layer, serve } = backend(kind)
    const shared = layer()
    serve(shared, Jobs)
    await waitFor('the worker to declare its channel', () => shared.tasks.isTaskChannel('jobs'))
    await sleep(300) // idle by now: its first claim found nothing
    for (const key of ['one', 'two', 'flaky']) {
      const sentAt = Date.now()
      await shared.send('jobs', { type: 'job.run', idempotencyKey: key })
      await waitFor(`task ${key} to start`, () => started.some((run) => run.key === key), { timeoutMs: 2_000 })
      expect(started.find((run) => run.key === key)!.at - sentAt).toBeLessThan(1_000)
      await sleep(100)
    }
    await waitFor('the retry', () => started.length === 4, { timeoutMs: 3_000 })
    const [first, retry] = started.filter((run) => run.key === 'flaky')
    expect(retry!.attempt).toBe(2)
    // Due 300 ms after the failure; the poll is a minute away: the retry's own wake-up started it.
    expect(retry!.at - first!.at).toBeGreaterThanOrEqual(290)
    expect(retry!.at - first!.at).toBeLessThan(1_300)
  })

  it('shows a worker counters in inspect() within about a second of a change', async () => {
    class Jobs extends RetryingConsumer {
      // Renewal and the periodic report every 20 s: only the prompt report can show the change in time.
      static override visibilityMs = 60_000
      async job_run(): Promise<void> {
        // done
      }
    }
    const { layer, serve } = backend(kind)
    const shared = layer()
    serve(shared, Jobs)
    await waitFor('the worker to report', async () => (await shared.inspect()).workers.length === 1)
    await shared.send('jobs', { type: 'job.run' })
    const sentAt = Date.now()
    await waitFor('processed = 1 in inspect()', async () => (await shared.inspect()).workers[0]?.processed === 1, {
      timeoutMs: 3_000,
      intervalMs: 50,
    })
    expect(Date.now() - sentAt).toBeLessThan(1_600)
  })
})
