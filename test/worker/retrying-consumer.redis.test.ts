import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it } from 'vitest'

import { NonRetryableError } from '../../src/control.js'
import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import type { ChannelLayer } from '../../src/layers/channel-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { ProtocolTypeRouter } from '../../src/routing/protocol-router.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'

const redisUrl = inject('redisUrl')
const open: { layer: ChannelLayer; worker?: WorkerHandle }[] = []

afterEach(async () => {
  for (const entry of open.splice(0)) {
    await entry.worker?.stop()
    await entry.layer.flush()
    await entry.layer.close()
  }
})

function redisLayer(): RedisChannelLayer {
  return new RedisChannelLayer({ hosts: [redisUrl], prefix: `w${randomBytes(6).toString('hex')}` })
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('RetryingConsumer on Redis', () => {
  it('runs a task that fails twice then succeeds exactly three times, ending succeeded', async () => {
    const runs: number[] = []
    class Flaky extends RetryingConsumer {
      static override retry = { maxRetries: 5, initialDelayMs: 50, factor: 1, maxDelayMs: 50, jitter: 'none' as const }
      async job_run(_message: { type: 'job.run' }, ctx: TaskContext): Promise<void> {
        runs.push(ctx.attempt)
        if (ctx.attempt < 3) throw new Error(`flake ${ctx.attempt}`)
      }
    }
    const layer = redisLayer()
    const worker = runWorker({
      application: ProtocolTypeRouter({ channel: ChannelNameRouter({ jobs: Flaky.asApp() }) }),
      layer,
      channels: ['jobs'],
    })
    open.push({ layer, worker })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'job-1' })
    await until(async () => (await layer.tasks.getTaskState('job-1'))?.status === 'succeeded')
    expect(runs).toEqual([1, 2, 3])
    expect(await layer.tasks.getTaskState('job-1')).toMatchObject({ status: 'succeeded', attempts: 3 })
  })

  it('dead-letters after maxRetries + 1 attempts, and replay puts it back', async () => {
    let runs = 0
    class Broken extends RetryingConsumer {
      static override retry = { maxRetries: 2, initialDelayMs: 20, factor: 1, maxDelayMs: 20, jitter: 'none' as const }
      async job_run(): Promise<void> {
        runs++
        throw new Error('always broken')
      }
    }
    const layer = redisLayer()
    const worker = runWorker({ application: ChannelNameRouter({ jobs: Broken.asApp() }), layer, channels: ['jobs'] })
    open.push({ layer, worker })
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'job-2' })
    await until(async () => (await layer.tasks.listDeadLetters('jobs')).length === 1)
    expect(runs).toBe(3)
    const [letter] = await layer.tasks.listDeadLetters('jobs')
    expect(letter).toMatchObject({
      taskId: 'job-2',
      attempts: 3,
      message: { type: 'job.run', idempotencyKey: 'job-2' },
    })
    expect(letter?.error).toContain('always broken')
    expect(await layer.tasks.getTaskState('job-2')).toMatchObject({ status: 'dead' })
    expect(await layer.tasks.replayDeadLetters('jobs')).toBe(1)
    await until(() => runs === 6)
    await until(async () => (await layer.tasks.listDeadLetters('jobs')).length === 1)
  })

  it('sends NonRetryableError straight to dead letters', async () => {
    let runs = 0
    class Strict extends RetryingConsumer {
      async job_run(): Promise<void> {
        runs++
        throw new NonRetryableError('bad input')
      }
    }
    const layer = redisLayer()
    const worker = runWorker({ application: ChannelNameRouter({ jobs: Strict.asApp() }), layer, channels: ['jobs'] })
    open.push({ layer, worker })
    await layer.send('jobs', { type: 'job.run' })
    await until(async () => (await layer.tasks.listDeadLetters('jobs')).length === 1)
    expect(runs).toBe(1)
  })
})
