// Issue 17's done-when test for chords, and what chains and chords promise under failure: real worker processes
// (the CLI, `switchyard worker --app fixtures/worker-app.ts jobs`) on one Redis, every first attempt failing,
// one worker SIGKILLed mid-way; and a step whose worker died between its ack and moving its flow on.
import { afterEach, describe, expect, inject, it } from 'vitest'

import { packFields } from '../../src/layers/redis/tasks/packed-fields.js'
import { RedisKeys } from '../../src/layers/redis/keys.js'
import { runTaskSettle } from '../../src/layers/redis/scripts/task-scripts.js'
import { JOBS } from './fixtures/recording-app.js'
import { countBy, Resources, runEvents, sleep, spawnWorkerProcesses, uniquePrefix, waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

const job = (n: number) => ({ channel: JOBS, message: { type: 'job.run', n } })

describe('chords and chains on worker processes', () => {
  it('a chord whose steps fail once each sends `then` exactly once, with a worker killed mid-way', async () => {
    const prefix = uniquePrefix()
    const recordFile = resources.tempFile('events.log')
    const layer = resources.layer(redisUrl, prefix)
    const workers = await spawnWorkerProcesses(resources, 3, {
      redisUrl,
      prefix,
      recordFile,
      taskMs: 150,
      visibilityMs: 1_500,
      concurrency: 4,
      shutdownTimeoutMs: 1_000,
      honourSignal: false,
      failFirstAttempt: true,
    })
    const steps = Array.from({ length: 30 }, (_unused, i) => job(i))
    const id = await layer.tasks.chord(steps, job(-1), { id: 'report-42' })
    // Mid-way: some steps succeeded, others are in flight on the worker that dies with them.
    await waitFor('eight steps done', () => countBy(runEvents(recordFile), 'done').size >= 8, { timeoutMs: 15_000 })
    workers[0]?.child.kill('SIGKILL')
    await waitFor('the chord to succeed', async () => (await layer.tasks.getTaskState(id))?.status === 'succeeded', {
      timeoutMs: 25_000,
      intervalMs: 100,
    })

    const events = runEvents(recordFile)
    const output = workers.map((worker) => worker.output()).join('\n')
    const thenId = `${id}.then`
    // `then` was queued once: one first attempt (which failed as planned), one success.
    const thenStarts = events.filter((event) => event.kind === 'start' && event.taskId === thenId)
    expect(
      thenStarts.filter((event) => event.kind === 'start' && event.attempt === 1),
      output,
    ).toHaveLength(1)
    expect(countBy(events, 'done').get(thenId)).toBe(1)
    // It started only after every step had succeeded.
    const firstThenStart = events.findIndex((event) => event.kind === 'start' && event.taskId === thenId)
    const lastStepDone = events.findLastIndex((event) => event.kind === 'done' && event.taskId !== thenId)
    expect(firstThenStart).toBeGreaterThan(lastStepDone)
    for (let i = 0; i < steps.length; i++) {
      const fails = events.filter((event) => event.kind === 'fail' && event.taskId === `${id}.${i}`)
      expect(fails.length, `${id}.${i}`).toBeGreaterThanOrEqual(1)
      expect(countBy(events, 'done').get(`${id}.${i}`), `${id}.${i}`).toBeGreaterThanOrEqual(1)
    }
    const state = await layer.tasks.getFlowState(id)
    expect(state?.steps.every((step) => step.status === 'succeeded')).toBe(true)
    expect(state?.then?.status).toBe('succeeded')
    // The worker died holding claims: they were redelivered, not lost.
    expect(events.some((event) => event.kind === 'start' && event.pid === workers[0]?.child.pid)).toBe(true)
  }, 60_000)

  it('a chain runs its steps in order across processes, each after the one before succeeded', async () => {
    const prefix = uniquePrefix()
    const recordFile = resources.tempFile('events.log')
    const layer = resources.layer(redisUrl, prefix)
    await spawnWorkerProcesses(resources, 2, {
      redisUrl,
      prefix,
      recordFile,
      taskMs: 20,
      visibilityMs: 3_000,
      concurrency: 2,
      shutdownTimeoutMs: 1_000,
      honourSignal: false,
      failFirstAttempt: true,
    })
    const id = await layer.tasks.chain([job(0), job(1), job(2), job(3)])
    await waitFor('the chain to succeed', async () => (await layer.tasks.getTaskState(id))?.status === 'succeeded', {
      timeoutMs: 20_000,
      intervalMs: 100,
    })
    const events = runEvents(recordFile)
    const order = events.filter((event) => event.kind === 'done').map((event) => event.taskId)
    expect(order).toEqual([`${id}.0`, `${id}.1`, `${id}.2`, `${id}.3`])
    for (let i = 1; i < 4; i++) {
      const started = events.findIndex((event) => event.kind === 'start' && event.taskId === `${id}.${i}`)
      const before = events.findIndex((event) => event.kind === 'done' && event.taskId === `${id}.${i - 1}`)
      expect(started).toBeGreaterThan(before)
    }
  }, 40_000)

  it('a step acked by a worker that died before moving its flow on is moved on by another worker', async () => {
    const prefix = uniquePrefix()
    const layer = resources.layer(redisUrl, prefix)
    const id = await layer.tasks.chain([job(0), job(1)])
    const [task] = await layer.tasks.claim(JOBS, 1, 30_000)
    expect(task?.taskId).toBe(`${id}.0`)
    // What the dying worker did: task-settle.lua's ack (the outbox entry is written with it), and nothing after.
    const client = resources.client(redisUrl)
    const now = Date.now()
    await runTaskSettle(client, new RedisKeys(prefix), {
      channel: JOBS,
      nowMs: now,
      taskStateRetentionMs: 60_000,
      deadLetterCapacity: 100,
      max: 0,
      claimDeadlineMs: 0,
      taskExpirySeconds: '',
      claimToken: '',
      settlements: packFields(['ack', task!.payload, task!.taskId, '', '', '']),
      plainPrefixBytes: -1,
    })
    expect((await layer.tasks.getTaskState(`${id}.0`))?.status).toBe('succeeded')
    expect(await layer.tasks.claim(JOBS, 1, 30_000)).toEqual([])
    // Another process's sweep, once the entry is older than its grace period.
    const other = resources.layer(redisUrl, prefix)
    await sleep(2_100)
    expect(await other.tasks.resumeFlows()).toBe(1)
    const [next] = await layer.tasks.claim(JOBS, 1, 30_000)
    expect(next?.taskId).toBe(`${id}.1`)
    expect(await other.tasks.resumeFlows()).toBe(0)
  }, 20_000)
})
