// Issue 17, progress to browsers: a RetryingConsumer's `ctx.progress` streamed through the task's progress group to
// a WebSocket consumer, with the end of the task (`task.retrying`, `task.succeeded`, `task.dead`) after it; the end
// also reaches a plain channel in the group of a task that never reports progress. Real
// timers, both layers (Redis: the test setup's server, a key prefix per test), a WebsocketCommunicator for the page.
import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { JsonWebsocketConsumer } from '../../consumers/json-websocket-consumer.js'
import { NonRetryableError } from '../../src/control.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { SCRIPTS } from '../../src/layers/redis/lua-script.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { Message } from '../../src/layers/channel-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import type { TaskStore } from '../../src/tasks/task-store.js'
import { WebsocketCommunicator } from '../../src/testing/index.js'
import type { TaskContext } from '../../src/worker/retry-options.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'

type Layer = InMemoryChannelLayer | RedisChannelLayer
const opened: { layer: Layer; worker?: WorkerHandle; page?: WebsocketCommunicator }[] = []

const LAYERS: Record<string, () => Layer> = {
  memory: () => new InMemoryChannelLayer(),
  redis: () => new RedisChannelLayer({ hosts: [inject('redisUrl')], prefix: `tp${randomBytes(6).toString('hex')}` }),
}

afterEach(async () => {
  for (const { layer, worker, page } of opened.splice(0)) {
    await page?.disconnect()
    await worker?.stop()
    if (layer instanceof RedisChannelLayer) await layer.flush()
    await layer.close()
  }
})

/** The page's socket: joins the progress group of the task named in its query, and forwards every task event. */
class TaskSocket extends JsonWebsocketConsumer {
  /** The layer's task store, given to `asApp` (a consumer's `channelLayer` is a view without it). */
  tasks!: TaskStore

  override async connect(): Promise<void> {
    const taskId = new URLSearchParams(String(this.scope.queryString)).get('task') ?? ''
    await this.channelLayer.groupAdd(this.tasks.progressGroup(taskId), this.channelName)
    await this.accept()
  }

  async task_progress(event: Message): Promise<void> {
    await this.sendJson(event)
  }

  async task_retrying(event: Message): Promise<void> {
    await this.sendJson(event)
  }

  async task_succeeded(event: Message): Promise<void> {
    await this.sendJson(event)
  }

  async task_dead(event: Message): Promise<void> {
    await this.sendJson(event)
  }
}

async function start(makeLayer: () => Layer, Task: typeof RetryingConsumer, taskId: string) {
  const layer = makeLayer()
  const entry: (typeof opened)[number] = { layer }
  opened.push(entry)
  const page = new WebsocketCommunicator(
    TaskSocket.asApp({ tasks: layer.tasks }),
    `/ws/?task=${encodeURIComponent(taskId)}`,
    { layer },
  )
  entry.page = page
  expect(await page.connect()).toMatchObject({ connected: true })
  entry.worker = runWorker({ application: ChannelNameRouter({ jobs: Task.asApp() }), layer, channels: ['jobs'] })
  return { layer, page }
}

/** Frames until (and with) the first whose type is `last`. */
async function framesUntil(page: WebsocketCommunicator, last: string): Promise<Message[]> {
  const frames: Message[] = []
  for (;;) {
    const frame = (await page.receiveJsonFrom({ timeoutMs: 5_000 })) as Message
    frames.push(frame)
    if (frame.type === last) return frames
  }
}

/** A worker on a new layer, with no page: listeners are plain channels (`listen`). */
function startWorker(makeLayer: () => Layer, Task: typeof RetryingConsumer): Layer {
  const layer = makeLayer()
  const worker = runWorker({ application: ChannelNameRouter({ jobs: Task.asApp() }), layer, channels: ['jobs'] })
  opened.push({ layer, worker })
  return layer
}

/** A channel in the progress group of `taskId`, as a page's consumer would be, without a WebSocket. */
async function listen(layer: Layer, taskId: string): Promise<string> {
  const channel = await layer.newChannel()
  await layer.groupAdd(layer.tasks.progressGroup(taskId), channel)
  return channel
}

/** The channel's next message; fails after five seconds. */
async function receiveWithin(layer: Layer, channel: string): Promise<Message> {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new Error(`nothing reached ${channel} in 5 s`))
  }, 5_000)
  try {
    return await layer.receive(channel, { signal: controller.signal })
  } finally {
    clearTimeout(timer)
  }
}

describe.each(Object.entries(LAYERS))('progress to the browser (%s)', (_name, makeLayer) => {
  it('streams progress to a page, coalesced, the last report before task.succeeded, and keeps it in the state', async () => {
    class Count extends RetryingConsumer {
      async job_run(_message: Message, ctx: TaskContext): Promise<void> {
        // Thousands of reports without awaiting: the store sees the first and then only the latest of each burst.
        for (let done = 1; done <= 2_000; done++) void ctx.progress({ done, total: 2_000 })
        await ctx.progress({ done: 2_000, total: 2_000, phase: 'finished' })
      }
    }
    const { layer, page } = await start(makeLayer, Count, 'count 1/2')
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'count 1/2' })
    const frames = await framesUntil(page, 'task.succeeded')
    const progress = frames.filter((frame) => frame.type === 'task.progress')
    expect(progress.length).toBeGreaterThanOrEqual(1)
    expect(progress.length).toBeLessThan(100)
    expect(progress.at(-1)).toEqual({
      type: 'task.progress',
      taskId: 'count 1/2',
      data: { done: 2_000, total: 2_000, phase: 'finished' },
    })
    expect(frames.at(-1)).toEqual({ type: 'task.succeeded', taskId: 'count 1/2' })
    expect(await layer.tasks.getTaskState('count 1/2')).toMatchObject({
      status: 'succeeded',
      progress: { done: 2_000, total: 2_000, phase: 'finished' },
    })
  })

  it('sends task.retrying between attempts and task.dead with the error message and code, never the payload', async () => {
    class Fails extends RetryingConsumer {
      static override retry = { maxRetries: 1, initialDelayMs: 20, jitter: 'none' as const }
      async job_run(_message: Message, ctx: TaskContext): Promise<void> {
        await ctx.progress({ attempt: ctx.attempt })
        if (ctx.attempt === 1) throw new Error('flaky')
        throw Object.assign(new NonRetryableError('card declined'), { code: 'E_CARD' })
      }
    }
    const { layer, page } = await start(makeLayer, Fails, 'pay-7')
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'pay-7', secret: 'never sent' })
    const frames = await framesUntil(page, 'task.dead')
    expect(frames).toEqual([
      { type: 'task.progress', taskId: 'pay-7', data: { attempt: 1 } },
      { type: 'task.retrying', taskId: 'pay-7', attempt: 1, delayMs: 20, error: 'flaky' },
      { type: 'task.progress', taskId: 'pay-7', data: { attempt: 2 } },
      { type: 'task.dead', taskId: 'pay-7', error: 'card declined', code: 'E_CARD' },
    ])
    expect(await layer.tasks.getTaskState('pay-7')).toMatchObject({ status: 'dead', progress: { attempt: 2 } })
  })

  it('throws at once for progress that is not plain JSON, where the handler passed it', async () => {
    const seen: unknown[] = []
    class Bad extends RetryingConsumer {
      async job_run(_message: Message, ctx: TaskContext): Promise<void> {
        try {
          void ctx.progress({ at: new Date() })
        } catch (error) {
          seen.push((error as { code?: unknown }).code)
        }
      }
    }
    const { layer, page } = await start(makeLayer, Bad, 'bad-1')
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'bad-1' })
    expect(await framesUntil(page, 'task.succeeded')).toEqual([{ type: 'task.succeeded', taskId: 'bad-1' }])
    expect(seen).toEqual(['SWY_MESSAGE_NOT_SERIALIZABLE'])
    expect(await layer.tasks.getTaskState('bad-1')).not.toHaveProperty('progress')
  })

  it('sends task.succeeded to a listener of a task that never reported progress', async () => {
    class Quiet extends RetryingConsumer {
      async job_run(): Promise<void> {}
    }
    const layer = startWorker(makeLayer, Quiet)
    const listener = await listen(layer, 'quiet-1')
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'quiet-1' })
    expect(await receiveWithin(layer, listener)).toEqual({ type: 'task.succeeded', taskId: 'quiet-1' })
    expect(await layer.tasks.getTaskState('quiet-1')).toMatchObject({ status: 'succeeded' })
  })

  it('sends task.retrying and task.dead to a listener of a task that never reported progress', async () => {
    class QuietFails extends RetryingConsumer {
      static override retry = { maxRetries: 1, initialDelayMs: 20, jitter: 'none' as const }
      async job_run(_message: Message, ctx: TaskContext): Promise<void> {
        throw new Error(`failed attempt ${ctx.attempt}`)
      }
    }
    const layer = startWorker(makeLayer, QuietFails)
    const listener = await listen(layer, 'quiet-2')
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'quiet-2' })
    expect(await receiveWithin(layer, listener)).toEqual({
      type: 'task.retrying',
      taskId: 'quiet-2',
      attempt: 1,
      delayMs: 20,
      error: 'failed attempt 1',
    })
    expect(await receiveWithin(layer, listener)).toEqual({
      type: 'task.dead',
      taskId: 'quiet-2',
      error: 'failed attempt 2',
    })
    expect(await layer.tasks.getTaskState('quiet-2')).toMatchObject({ status: 'dead' })
  })

  it('makes no group send for the ends of tasks nobody listens to (a group send per task costs a Redis worker half its rate)', async () => {
    class Mixed extends RetryingConsumer {
      static override retry = { maxRetries: 1, initialDelayMs: 10, jitter: 'none' as const }
      async job_run(message: Message): Promise<void> {
        if (message.fails === true) throw new Error('no')
      }
    }
    const layer = startWorker(makeLayer, Mixed)
    const listener = await listen(layer, 'watched')
    const ids = Array.from({ length: 40 }, (_, index) => `unwatched-${index}`)
    await Promise.all(
      ids.map((id, index) => layer.send('jobs', { type: 'job.run', idempotencyKey: id, fails: index % 10 === 0 })),
    )
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'watched' })
    expect(await receiveWithin(layer, listener)).toEqual({ type: 'task.succeeded', taskId: 'watched' })
    const ended = async (): Promise<boolean> => {
      const states = await Promise.all(ids.map((id) => layer.tasks.getTaskState(id)))
      return states.every((state) => state?.status === 'succeeded' || state?.status === 'dead')
    }
    for (let i = 0; i < 200 && !(await ended()); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await ended()).toBe(true)
    // 36 successes, 4 retries and 4 deaths unheard: the one group send is the watched task's end.
    expect(layer.stats().groupSends).toBe(1)
  })
})

describe('task events on Redis', () => {
  it('asks Redis which groups have members once for the events sent in one turn, not once per event', async () => {
    const layer = LAYERS.redis!()
    opened.push({ layer })
    const listener = await listen(layer, 'batch-2')
    const check = vi.spyOn(SCRIPTS.groupsWithMembers, 'run')
    try {
      const ids = Array.from({ length: 20 }, (_, index) => `batch-${index}`)
      await Promise.all(ids.map((taskId) => layer.tasks.sendTaskEvent({ type: 'task.succeeded', taskId })))
      expect(check).toHaveBeenCalledTimes(1)
      expect(await receiveWithin(layer, listener)).toEqual({ type: 'task.succeeded', taskId: 'batch-2' })
      expect(layer.stats().groupSends).toBe(1)
    } finally {
      check.mockRestore()
    }
  })
})
