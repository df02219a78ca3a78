// Two workers (two layers, as two processes would have) on one channel: a claim is exclusive, so no task ever
// runs in two places at once, and each runs once.
import { setTimeout as delay } from 'node:timers/promises'

import { afterEach, describe, expect, inject, it } from 'vitest'

import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { runWorker } from '../../src/worker/worker.js'
import { seededRandom, testSeed } from '../support/seeded-random.js'
import { Resources, uniquePrefix, waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
// How long each task runs comes from this seed (printed; SWITCHYARD_TEST_SEED replays it).
const seed = testSeed(import.meta.url)
const resources = new Resources()
afterEach(() => resources.closeAll())

const TASKS = 200
const CONCURRENCY = 4

describe('two workers on one channel', () => {
  it('never run a task in two places at once, and run each once', async () => {
    const prefix = uniquePrefix()
    const active = new Map<string, number>()
    const overlaps: string[] = []
    const runs = new Map<string, number>()
    const busy: [number, number] = [0, 0]
    const peak: [number, number] = [0, 0]
    const ran: [number, number] = [0, 0]

    function application(worker: 0 | 1): ReturnType<typeof ChannelNameRouter> {
      class Exclusive extends RetryingConsumer {
        static override concurrency = CONCURRENCY
        // Short, so renewals and stalled checks (every 100 ms) run many times against live claims.
        static override visibilityMs = 300

        async job_run(_message: { type: 'job.run' }, ctx: TaskContext): Promise<void> {
          const now = (active.get(ctx.taskId) ?? 0) + 1
          active.set(ctx.taskId, now)
          if (now > 1) overlaps.push(ctx.taskId)
          runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1)
          busy[worker]++
          peak[worker] = Math.max(peak[worker], busy[worker])
          ran[worker]++
          try {
            // 0-10 ms, drawn per task so the draw does not depend on which worker got there first.
            await delay(seededRandom(seed, ctx.taskId).int(11))
          } finally {
            busy[worker]--
            active.set(ctx.taskId, (active.get(ctx.taskId) ?? 1) - 1)
          }
        }
      }
      return ChannelNameRouter({ jobs: Exclusive.asApp() })
    }

    const producer = resources.layer(redisUrl, prefix, { capacity: TASKS })
    const ids = Array.from({ length: TASKS }, (_, i) => `task-${i}`)
    await Promise.all(ids.map((id) => producer.send('jobs', { type: 'job.run', idempotencyKey: id })))
    for (const worker of [0, 1] as const) {
      resources.worker(
        runWorker({ application: application(worker), layer: resources.layer(redisUrl, prefix), channels: ['jobs'] }),
      )
    }
    await waitFor('every task to run', () => runs.size === TASKS && [...active.values()].every((n) => n === 0), {
      timeoutMs: 10_000,
    })
    await waitFor('every task to be acked', async () => {
      const states = await Promise.all(ids.map((id) => producer.tasks.getTaskState(id)))
      return states.every((state) => state?.status === 'succeeded')
    })

    expect(overlaps).toEqual([])
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    // Both took part, neither went over its concurrency.
    expect(ran[0]).toBeGreaterThan(0)
    expect(ran[1]).toBeGreaterThan(0)
    expect(ran[0] + ran[1]).toBe(TASKS)
    expect(Math.max(...peak)).toBeLessThanOrEqual(CONCURRENCY)
    for (const id of ids) expect(await producer.tasks.getTaskState(id)).toMatchObject({ attempts: 1 })
  })
})
