// SIGTERM drains a worker: it stops claiming, lets running tasks finish (renewing their claims meanwhile) and exits
// 0; what it had not started stays queued for the next worker. A task still running when the grace period ends
// goes back to the queue at once, uncounted, and completes on the next worker.
import { afterEach, describe, expect, inject, it } from 'vitest'

import { runWorker } from '../../src/worker/worker.js'
import { JOBS, recordingApplication } from './fixtures/recording-app.js'
import {
  countBy,
  Resources,
  runEvents,
  sleep,
  spawnWorkerProcess,
  uniquePrefix,
  waitFor,
  type WorkerProcessEnv,
} from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

function setup(): {
  prefix: string
  layer: ReturnType<Resources['layer']>
  redis: ReturnType<Resources['client']>
  spawn: (config: Omit<WorkerProcessEnv, 'REDIS_URL' | 'SWY_PREFIX'>) => ReturnType<typeof spawnWorkerProcess>
  startRescuer: () => void
} {
  const prefix = uniquePrefix()
  const layer = resources.layer(redisUrl, prefix)
  const redis = resources.client(redisUrl)
  return {
    prefix,
    layer,
    redis,
    spawn: (config) => spawnWorkerProcess(resources, { REDIS_URL: redisUrl, SWY_PREFIX: prefix, ...config }),
    startRescuer: () => {
      resources.worker(
        runWorker({
          application: recordingApplication({ prefix, redis, taskMs: 5, visibilityMs: 600, concurrency: 4 }),
          layer: resources.layer(redisUrl, prefix),
          channels: [JOBS],
        }),
      )
    },
  }
}

const ids = (count: number): string[] => Array.from({ length: count }, (_, i) => `task-${i + 1}`)

describe('a worker stopped with SIGTERM', () => {
  it('finishes its running tasks, exits 0, and leaves the rest queued for the next worker', async () => {
    const { prefix, layer, redis, spawn, startRescuer } = setup()
    const tasks = ids(6)
    for (const id of tasks) await layer.send(JOBS, { type: 'job.run', idempotencyKey: id })
    const worker = spawn({ TASK_MS: 300, VISIBILITY_MS: 600, CONCURRENCY: 2, GRACE_MS: 10_000, HONOUR_SIGNAL: true })
    await waitFor('the first run to start', async () => (await redis.exists(`${prefix}:runs:task-1`)) === 1)
    worker.child.kill('SIGTERM')
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })

    // Its two claims (concurrency 2) ran to the end before it exited; it claimed nothing after the signal.
    const drained = await runEvents(redis, prefix)
    expect(drained.filter((event) => event.kind === 'start').map((event) => [event.taskId, event.pid])).toEqual([
      ['task-1', worker.child.pid],
      ['task-2', worker.child.pid],
    ])
    expect(countBy(drained, 'done')).toEqual(
      new Map([
        ['task-1', 1],
        ['task-2', 1],
      ]),
    )
    expect(countBy(drained, 'fail').size).toBe(0)
    for (const id of ['task-1', 'task-2']) {
      expect(await layer.tasks.getTaskState(id)).toMatchObject({ status: 'succeeded', attempts: 1 })
    }
    expect(await redis.zcard(`${prefix}:switchyard:inflight:${JOBS}`)).toBe(0)
    expect(await redis.zcard(`${prefix}${JOBS}`)).toBe(4)
    for (const id of tasks.slice(2)) expect(await layer.tasks.getTaskState(id)).toBeUndefined()

    startRescuer()
    await waitFor('every task to succeed', async () => {
      const states = await Promise.all(tasks.map((id) => layer.tasks.getTaskState(id)))
      return states.every((state) => state?.status === 'succeeded')
    })
    const events = await runEvents(redis, prefix)
    expect(countBy(events, 'start')).toEqual(new Map(tasks.map((id) => [id, 1])))
    expect(countBy(events, 'done')).toEqual(new Map(tasks.map((id) => [id, 1])))
  })

  it('keeps renewing the claims of running tasks while it drains, so no other worker takes them over', async () => {
    const { prefix, layer, redis, spawn, startRescuer } = setup()
    // A task five visibility periods long, and another worker on the channel checking for stalled claims.
    const worker = spawn({ TASK_MS: 1_500, VISIBILITY_MS: 300, CONCURRENCY: 1, GRACE_MS: 10_000, HONOUR_SIGNAL: true })
    await worker.ready
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'task-1' })
    await waitFor('the run to start', async () => (await redis.exists(`${prefix}:runs:task-1`)) === 1)
    startRescuer()
    worker.child.kill('SIGTERM')
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })
    await sleep(300)

    const events = await runEvents(redis, prefix)
    expect(events.filter((event) => event.kind !== 'fail')).toEqual([
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: worker.child.pid },
      { kind: 'done', taskId: 'task-1', pid: worker.child.pid },
    ])
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
  })

  it('returns a task still running when the grace period ends to the queue, uncounted, for the next worker', async () => {
    const { prefix, layer, redis, spawn, startRescuer } = setup()
    // The handler ignores its signal, as a careless one would: the worker must not wait for it, nor ack it.
    const worker = spawn({ TASK_MS: 3_000, VISIBILITY_MS: 600, CONCURRENCY: 1, GRACE_MS: 200, HONOUR_SIGNAL: false })
    await worker.ready
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'task-1' })
    await waitFor('the run to start', async () => (await redis.exists(`${prefix}:runs:task-1`)) === 1)
    const signalledAt = Date.now()
    worker.child.kill('SIGTERM')
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })
    expect(Date.now() - signalledAt).toBeLessThan(2_000)

    // Released, not failed: back on the queue now (not after a retry delay), its attempt given back, no dead
    // letter, and no onFailure call (a shutdown is not the task's failure).
    expect(await redis.zcard(`${prefix}:switchyard:inflight:${JOBS}`)).toBe(0)
    expect(await redis.zcard(`${prefix}${JOBS}`)).toBe(1)
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'queued', attempts: 0 })
    expect(await runEvents(redis, prefix)).toEqual([
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: worker.child.pid },
    ])

    startRescuer()
    await waitFor('the task to succeed', async () => (await layer.tasks.getTaskState('task-1'))?.status === 'succeeded')
    expect(await runEvents(redis, prefix)).toEqual([
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: worker.child.pid },
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: process.pid },
      { kind: 'done', taskId: 'task-1', pid: process.pid },
    ])
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(await layer.tasks.listDeadLetters(JOBS)).toEqual([])
  })
})
