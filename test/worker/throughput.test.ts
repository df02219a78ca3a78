// 10 000 tasks through two workers (two layers, concurrency 16 each) with failures drawn from a seeded PRNG: every
// task ends succeeded or in dead letters, after exactly the attempts the PRNG dictates, and none runs after its
// success. Prints the rate, messages/s, measured from the workers' start to the last task's end.
import { afterEach, describe, expect, inject, it } from 'vitest'

import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import type { FailureInfo } from '../../src/worker/task-runner.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { runWorker } from '../../src/worker/worker.js'
import { seededRandom, testSeed } from '../support/seeded-random.js'
import { Resources, uniquePrefix, waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

const MESSAGES = 10_000
const WORKERS = 2
const CONCURRENCY = 16
const MAX_RETRIES = 3
const FAILURE_RATE = 0.1
// Which attempts fail comes from this seed (printed; SWITCHYARD_TEST_SEED replays it).
const SEED = testSeed(import.meta.url)

/** 1 task in 100 always fails, so it dies after MAX_RETRIES + 1 attempts. */
const alwaysFails = (index: number): boolean => index % 100 === 37

/** Whether attempt `attempt` of task `index` fails: a pure function of both, so the outcome is known in advance. */
function attemptFails(index: number, attempt: number): boolean {
  return alwaysFails(index) || seededRandom(SEED, `${index}:${attempt}`).next() < FAILURE_RATE
}

/** The attempts task `index` takes, and whether it ends dead. */
function expectedOutcome(index: number): { attempts: number; dead: boolean } {
  for (let attempt = 1; attempt <= MAX_RETRIES + 1; attempt++) {
    if (!attemptFails(index, attempt)) return { attempts: attempt, dead: false }
  }
  return { attempts: MAX_RETRIES + 1, dead: true }
}

describe('throughput with random failures', () => {
  it(`takes ${MESSAGES} tasks through ${WORKERS} workers: each succeeds or dies, none lost, none rerun`, async () => {
    const prefix = uniquePrefix()
    const starts = new Map<string, number>()
    const succeeded = new Set<string>()
    const died = new Set<string>()
    const anomalies: string[] = []
    const attemptsByLayer = new Map<unknown, number>()

    class Flaky extends RetryingConsumer {
      static override concurrency = CONCURRENCY
      static override visibilityMs = 10_000
      static override retry = {
        maxRetries: MAX_RETRIES,
        initialDelayMs: 10,
        factor: 1,
        maxDelayMs: 10,
        jitter: 'none' as const,
      }

      static override async onFailure(_error: unknown, ctx: TaskContext, info: FailureInfo): Promise<void> {
        if (!info.willRetry) died.add(ctx.taskId)
      }

      async job_run(message: { type: 'job.run'; index: number }, ctx: TaskContext): Promise<void> {
        attemptsByLayer.set(this.scope.channelLayer, (attemptsByLayer.get(this.scope.channelLayer) ?? 0) + 1)
        const started = (starts.get(ctx.taskId) ?? 0) + 1
        starts.set(ctx.taskId, started)
        if (succeeded.has(ctx.taskId)) anomalies.push(`${ctx.taskId} ran again after its success`)
        if (ctx.attempt !== started) anomalies.push(`${ctx.taskId} run ${started} had attempt ${ctx.attempt}`)
        if (attemptFails(message.index, ctx.attempt)) throw new Error('flake')
        succeeded.add(ctx.taskId)
      }
    }

    const producer = resources.layer(redisUrl, prefix, { capacity: MESSAGES })
    const ids = Array.from({ length: MESSAGES }, (_, index) => `t${index}`)
    for (let from = 0; from < MESSAGES; from += 1_000) {
      await Promise.all(
        ids
          .slice(from, from + 1_000)
          .map((id, i) => producer.send('jobs', { type: 'job.run', idempotencyKey: id, index: from + i })),
      )
    }
    const layers = Array.from({ length: WORKERS }, () => resources.layer(redisUrl, prefix))
    await Promise.all(layers.map((layer) => layer.ready()))

    const startedAt = performance.now()
    const workers = layers.map((layer) =>
      resources.worker(
        runWorker({ application: ChannelNameRouter({ jobs: Flaky.asApp() }), layer, channels: ['jobs'] }),
      ),
    )
    await waitFor('every task to succeed or die', () => succeeded.size + died.size === MESSAGES, {
      timeoutMs: 40_000,
      intervalMs: 5,
    })
    const elapsedMs = performance.now() - startedAt
    const attempts = [...starts.values()].reduce((sum, n) => sum + n, 0)
    console.log(
      `throughput: ${MESSAGES} messages (${attempts} attempts, ${died.size} dead) through ${WORKERS} workers x ` +
        `${CONCURRENCY} in ${Math.round(elapsedMs)} ms = ${Math.round((MESSAGES / elapsedMs) * 1_000)} messages/s`,
    )
    // Drained, so every ack and dead-lettering has reached Redis.
    await Promise.all(workers.map((worker) => worker.stop()))

    expect(anomalies).toEqual([])
    // Both workers took a real share.
    for (const layer of layers) expect(attemptsByLayer.get(layer)).toBeGreaterThan(attempts / 10)
    const expectedDead = new Set<string>()
    let expectedAttempts = 0
    ids.forEach((id, index) => {
      const outcome = expectedOutcome(index)
      expectedAttempts += outcome.attempts
      if (outcome.dead) expectedDead.add(id)
    })
    expect(expectedDead.size).toBeGreaterThanOrEqual(MESSAGES / 100)
    expect(died).toEqual(expectedDead)
    expect(attempts).toBe(expectedAttempts)

    // What Redis says, task by task.
    const statuses = new Map<string, number>()
    for (let from = 0; from < MESSAGES; from += 1_000) {
      const states = await Promise.all(ids.slice(from, from + 1_000).map((id) => producer.tasks.getTaskState(id)))
      states.forEach((state, i) => {
        const index = from + i
        const outcome = expectedOutcome(index)
        statuses.set(state?.status ?? 'missing', (statuses.get(state?.status ?? 'missing') ?? 0) + 1)
        if (state?.attempts !== outcome.attempts) anomalies.push(`t${index}: ${state?.attempts} attempts stored`)
      })
    }
    expect(anomalies).toEqual([])
    expect(Object.fromEntries(statuses)).toEqual({ succeeded: MESSAGES - expectedDead.size, dead: expectedDead.size })
    const letters = await producer.tasks.listDeadLetters('jobs', { limit: MESSAGES })
    expect(new Set(letters.map((letter) => letter.taskId))).toEqual(expectedDead)
    expect(letters.every((letter) => letter.attempts === MAX_RETRIES + 1 && letter.error === 'Error: flake')).toBe(true)
    const raw = resources.client(redisUrl)
    for (const key of [`${prefix}jobs`, `${prefix}:switchyard:inflight:jobs`, `${prefix}:switchyard:delayed:jobs`]) {
      expect(await raw.zcard(key)).toBe(0)
    }
  }, 60_000)
})
