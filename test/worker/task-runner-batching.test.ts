// TaskRunner's batching on a real Redis: attempts that end together are settled in one store call, which claims
// only the slots that are free, and a call that fails never loses a task (at-least-once): its settlements are
// sent again, and claims it may have made come back after their deadline.
import { randomBytes } from 'node:crypto'

import { pino } from 'pino'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import { resolveRetryOptions } from '../../src/worker/backoff.js'
import { TaskRunner } from '../../src/worker/task-runner.js'
import { RedisUnavailableError } from '../../src/errors.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { TaskSettlement } from '../../src/tasks/task-store.js'
import { waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const step of cleanup.splice(0)) await step()
})

interface Harness {
  readonly layer: RedisChannelLayer
  readonly runner: TaskRunner
  /** Handler runs per task id. */
  readonly runs: Map<string, number>
  /** Handlers running right now, and the most at once. */
  readonly running: { now: number; most: number }
}

async function harness(
  tasks: number,
  options: { concurrency: number; visibilityMs?: number; handlerMs?: (index: number) => number; yieldEach?: boolean },
): Promise<Harness> {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: `w${randomBytes(6).toString('hex')}` })
  for (let i = 0; i < tasks; i++) await layer.send('jobs', { type: 'job.run', idempotencyKey: `t${i}`, index: i })
  const runs = new Map<string, number>()
  const running = { now: 0, most: 0 }
  const runner = new TaskRunner({
    store: layer.tasks,
    channel: 'jobs',
    concurrency: options.concurrency,
    visibilityMs: options.visibilityMs ?? 30_000,
    timeoutMs: 30_000,
    retry: resolveRetryOptions({ maxRetries: 3, initialDelayMs: 10, factor: 1, maxDelayMs: 10, jitter: 'none' }),
    storeResults: false,
    log: pino({ level: 'silent' }),
    retryOn: () => true,
    random: Math.random,
    handle: async (message, ctx) => {
      runs.set(ctx.taskId, (runs.get(ctx.taskId) ?? 0) + 1)
      running.now++
      running.most = Math.max(running.most, running.now)
      const ms = options.handlerMs?.(message.index as number) ?? 0
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
      // Even the instant ones stay running past a turn, so a slot overrun shows in `running.most`.
      else if (options.yieldEach === true) await new Promise((resolve) => setImmediate(resolve))
      running.now--
    },
    onFailure: async () => undefined,
  })
  cleanup.push(async () => {
    await runner.stop(1_000)
    await layer.flush()
    await layer.close()
  })
  return { layer, runner, runs, running }
}

async function allSucceeded(layer: RedisChannelLayer, tasks: number): Promise<boolean> {
  for (let i = 0; i < tasks; i++) {
    if ((await layer.tasks.getTaskState(`t${i}`))?.status !== 'succeeded') return false
  }
  return true
}

/** Runs `runner` until every one of `tasks` tasks has succeeded (within `timeoutMs`), then stops it. */
async function runUntilAllSucceeded(
  { layer, runner }: Pick<Harness, 'layer' | 'runner'>,
  tasks: number,
  timeoutMs = 10_000,
): Promise<void> {
  const done = runner.run()
  await waitFor('every task to succeed', () => allSucceeded(layer, tasks), { timeoutMs, intervalMs: 20 })
  await runner.stop(1_000)
  await done
}

/** One settle call as the runner made it: what it carried, and what was running and on its way meanwhile. */
interface Call {
  readonly settlements: number
  readonly max: number
  readonly runningNow: number
  /** Calls on their way, this one included. */
  readonly inFlight: number
  /** Claims the calls on their way may bring, this one's included. */
  readonly claimingNow: number
}

describe('TaskRunner batching (redis)', () => {
  /** Runs `tasks` through a runner, recording every settle call; resolves once all succeeded and it stopped. */
  async function record(
    tasks: number,
    options: {
      concurrency: number
      handlerMs?: (index: number) => number
      settleDelayMs?: number
      yieldEach?: boolean
    },
  ): Promise<{
    calls: Call[]
    runs: Map<string, number>
    most: number
  }> {
    const { layer, runner, runs, running } = await harness(tasks, options)
    const calls: Call[] = []
    const settle = layer.tasks.settle.bind(layer.tasks)
    const out = { calls: 0, claiming: 0 }
    vi.spyOn(layer.tasks, 'settle').mockImplementation(async (channel, settlements, max, visibilityMs) => {
      out.calls++
      out.claiming += max
      calls.push({
        settlements: settlements.length,
        max,
        runningNow: running.now,
        inFlight: out.calls,
        claimingNow: out.claiming,
      })
      try {
        const delayMs = options.settleDelayMs ?? 0
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs))
        return await settle(channel, settlements, max, visibilityMs)
      } finally {
        out.calls--
        out.claiming -= max
      }
    })
    await runUntilAllSucceeded({ layer, runner }, tasks)
    return { calls, runs, most: running.most }
  }

  it('claims only the slots its running handlers leave free while attempts are long, one call at a time', async () => {
    // Long attempts are not pipelined: no prefetch, no second call (a queued claim would wait a whole task).
    const { calls, runs, most } = await record(24, { concurrency: 4, handlerMs: (index) => 10 + (index % 3) * 10 })
    expect(runs.size).toBe(24)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    expect(most).toBeLessThanOrEqual(4)
    for (const call of calls) expect(call.max + call.runningNow).toBeLessThanOrEqual(4)
    expect(Math.max(...calls.map((call) => call.inFlight))).toBe(1)
    expect(calls.reduce((sum, call) => sum + call.settlements, 0)).toBe(24)
  })

  it('pipelines short attempts: two calls in flight, never more handlers than concurrency', async () => {
    // Some slow, most instant: slots free up unevenly, and Redis answers late, so the second call overlaps.
    const { calls, runs, most } = await record(80, {
      concurrency: 4,
      handlerMs: (index) => (index % 9 === 0 ? 20 : 0),
      settleDelayMs: 3,
      yieldEach: true,
    })
    expect(runs.size).toBe(80)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    expect(most).toBeLessThanOrEqual(4)
    expect(Math.max(...calls.map((call) => call.inFlight))).toBe(2)
    // Claims on their way and handlers running stay within concurrency plus the prefetch (4 here).
    for (const call of calls) {
      expect(call.max).toBeLessThanOrEqual(4)
      expect(call.claimingNow + call.runningNow).toBeLessThanOrEqual(8)
    }
    expect(calls.reduce((sum, call) => sum + call.settlements, 0)).toBe(80)
  })

  it('settles attempts that end together in one call, the one that claims their slots again', async () => {
    const { calls, runs } = await record(40, { concurrency: 4 })
    expect(runs.size).toBe(40)
    const settling = calls.filter((call) => call.settlements > 0)
    // Batches of four (eight when the tasks of both calls in flight end in one turn), give or take the first
    // claims and the polls after the queue ran dry.
    expect(settling.length).toBeLessThanOrEqual(14)
    expect(Math.max(...settling.map((call) => call.settlements))).toBeGreaterThanOrEqual(4)
    expect(Math.max(...settling.map((call) => call.settlements))).toBeLessThanOrEqual(8)
    expect(settling.reduce((sum, call) => sum + call.settlements, 0)).toBe(40)
    expect(settling.every((call) => call.max <= 4)).toBe(true)
  })

  it('sends the settlements of a call that could not be sent again: no task lost, none run twice', async () => {
    const TASKS = 12
    const { layer, runner, runs } = await harness(TASKS, { concurrency: 4 })
    const settle = layer.tasks.settle.bind(layer.tasks)
    const failed: TaskSettlement[][] = []
    vi.spyOn(layer.tasks, 'settle').mockImplementation(async (channel, settlements, max, visibilityMs) => {
      if (failed.length === 0 && settlements.length > 0) {
        failed.push([...settlements])
        throw new RedisUnavailableError('Redis at test is unavailable')
      }
      return settle(channel, settlements, max, visibilityMs)
    })
    // The runner waits a second after a failed call.
    await runUntilAllSucceeded({ layer, runner }, TASKS)

    expect(failed[0]?.length).toBeGreaterThan(0)
    expect(runs.size).toBe(TASKS)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    for (let i = 0; i < TASKS; i++) expect(await layer.tasks.getTaskState(`t${i}`)).toMatchObject({ attempts: 1 })
    expect(runner.stats).toMatchObject({ processed: TASKS, inFlight: 0 })
  })

  it('while its settlements keep failing, sends them alone: no claim per failed call left to its deadline', async () => {
    const TASKS = 12
    const { layer, runner, runs } = await harness(TASKS, { concurrency: 4 })
    const settle = layer.tasks.settle.bind(layer.tasks)
    // Each call as it went out: settlements carried, claims asked for, and whether it was refused.
    const calls: { settlements: number; max: number; refused: boolean }[] = []
    vi.spyOn(layer.tasks, 'settle').mockImplementation(async (channel, settlements, max, visibilityMs) => {
      // The first three calls that carry settlements fail, as while a replica wait keeps timing out.
      const refused = settlements.length > 0 && calls.filter((call) => call.refused).length < 3
      calls.push({ settlements: settlements.length, max, refused })
      if (refused)
        throw new RedisUnavailableError('Redis at test ran the write, but 0 of the 1 replicas acknowledged it')
      return settle(channel, settlements, max, visibilityMs)
    })
    await runUntilAllSucceeded({ layer, runner }, TASKS, 15_000)

    const firstRefused = calls.findIndex((call) => call.refused)
    expect(firstRefused).toBeGreaterThanOrEqual(0)
    const after = calls.slice(firstRefused + 1)
    const recorded = after.findIndex((call) => call.settlements > 0 && !call.refused)
    expect(recorded).toBeGreaterThanOrEqual(0)
    // From the first refusal until settlements are recorded again, no call that carries them claims.
    expect(after.slice(0, recorded + 1).filter((call) => call.settlements > 0 && call.max > 0)).toEqual([])
    // Then it claims again, and everything ran once.
    expect(after.slice(recorded + 1).some((call) => call.max > 0)).toBe(true)
    expect(runs.size).toBe(TASKS)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
  })

  it('after a call whose reply was lost, settles again and gets back the claims it made after their deadline', async () => {
    const TASKS = 12
    const { layer, runner, runs } = await harness(TASKS, { concurrency: 4, visibilityMs: 300 })
    const settle = layer.tasks.settle.bind(layer.tasks)
    let lost = 0
    vi.spyOn(layer.tasks, 'settle').mockImplementation(async (channel, settlements, max, visibilityMs) => {
      const claimed = await settle(channel, settlements, max, visibilityMs)
      if (lost === 0 && settlements.length > 0 && claimed.length > 0) {
        lost = claimed.length
        // It ran, but the worker never hears: as if the connection dropped before the reply.
        throw new RedisUnavailableError('Redis at test is unavailable (the command may or may not have run)')
      }
      return claimed
    })
    await runUntilAllSucceeded({ layer, runner }, TASKS)

    expect(lost).toBeGreaterThan(0)
    // Every task ran exactly once: the lost claims never started here, they came back and ran later.
    expect(runs.size).toBe(TASKS)
    expect([...runs.values()].every((count) => count === 1)).toBe(true)
    const attempts: number[] = []
    for (let i = 0; i < TASKS; i++) attempts.push((await layer.tasks.getTaskState(`t${i}`))?.attempts ?? 0)
    // The lost claims were started by the call that claimed them, so they count a second attempt.
    expect(attempts.filter((count) => count === 2)).toHaveLength(lost)
    expect(attempts.filter((count) => count === 1)).toHaveLength(TASKS - lost)
  })

  it('drops the settlements of a call that failed for good (not a connection error): they run again later', async () => {
    const TASKS = 12
    const { layer, runner, runs } = await harness(TASKS, { concurrency: 4, visibilityMs: 300 })
    const settle = layer.tasks.settle.bind(layer.tasks)
    const dropped: string[] = []
    vi.spyOn(layer.tasks, 'settle').mockImplementation(async (channel, settlements, max, visibilityMs) => {
      if (dropped.length === 0 && settlements.length > 0) {
        dropped.push(...settlements.map((settlement) => settlement.task.taskId))
        throw new Error('ERR Error running script')
      }
      return settle(channel, settlements, max, visibilityMs)
    })
    await runUntilAllSucceeded({ layer, runner }, TASKS)

    expect(dropped.length).toBeGreaterThan(0)
    // At-least-once: the tasks whose acks were lost ran a second time, after their claims expired; the others once.
    for (let i = 0; i < TASKS; i++) expect(runs.get(`t${i}`)).toBe(dropped.includes(`t${i}`) ? 2 : 1)
  })
})
