// Issue 17, progress to browsers: a RetryingConsumer's `ctx.progress` streamed through the task's progress group to
// a WebSocket consumer, with the end of the task (`task.retrying`, `task.succeeded`, `task.dead`) after it. Real
// timers, both layers (Redis: the test setup's server, a key prefix per test), a WebsocketCommunicator for the page.
import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { JsonWebsocketConsumer } from '../../consumers/json-websocket-consumer.js'
import { NonRetryableError } from '../../src/control.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
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

  it('sends no end to the group for an attempt that reported no progress (a group send per task costs a Redis worker half its rate)', async () => {
    class Quiet extends RetryingConsumer {
      async job_run(): Promise<void> {}
    }
    const { layer, page } = await start(makeLayer, Quiet, 'quiet-1')
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'quiet-1' })
    for (let i = 0; i < 100 && (await layer.tasks.getTaskState('quiet-1'))?.status !== 'succeeded'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(await layer.tasks.getTaskState('quiet-1')).toMatchObject({ status: 'succeeded' })
    expect(await page.receiveNothing({ timeoutMs: 100 })).toBe(true)
  })
})
