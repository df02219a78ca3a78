// SIGTERM drains a worker: it stops claiming, lets running tasks finish (renewing their claims meanwhile) and exits
// 0; what it had not started stays queued for the next worker. A task still running when the grace period ends
// goes back to the queue at once, uncounted, and completes on the next worker. The worker under test is the real
// CLI, `switchyard worker --app fixtures/worker-app.ts jobs`, in a child process.
import { afterEach, describe, expect, inject, it } from 'vitest'

import { runWorker } from '../../src/worker/worker.js'
import { JOBS, recordingApplication } from './fixtures/recording-app.js'
import {
  countBy,
  hasStarted,
  Resources,
  runEvents,
  sleep,
  spawnWorkerProcess,
  uniquePrefix,
  waitFor,
  type WorkerProcessOptions,
} from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

type ChildOptions = Omit<WorkerProcessOptions, 'redisUrl' | 'prefix' | 'recordFile'>

function setup(): {
  prefix: string
  recordFile: string
  layer: ReturnType<Resources['layer']>
  redis: ReturnType<Resources['client']>
  spawn: (options: ChildOptions) => ReturnType<typeof spawnWorkerProcess>
  startRescuer: () => void
} {
  const prefix = uniquePrefix()
  const recordFile = resources.tempFile('events.log')
  return {
    prefix,
    recordFile,
    layer: resources.layer(redisUrl, prefix),
    redis: resources.client(redisUrl),
    spawn: (options) => spawnWorkerProcess(resources, { redisUrl, prefix, recordFile, ...options }),
    startRescuer: () => {
      resources.worker(
        runWorker({
          application: recordingApplication({ recordFile, taskMs: 5, visibilityMs: 600, concurrency: 4 }),
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
    const { prefix, recordFile, layer, redis, spawn, startRescuer } = setup()
    const tasks = ids(6)
    for (const id of tasks) await layer.send(JOBS, { type: 'job.run', idempotencyKey: id })
    const worker = spawn({
      taskMs: 300,
      visibilityMs: 600,
      concurrency: 2,
      shutdownTimeoutMs: 10_000,
      honourSignal: true,
    })
    await waitFor('the first run to start', () => hasStarted(recordFile, 'task-1'))
    worker.child.kill('SIGTERM')
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })

    // Its two claims (concurrency 2) ran to the end before it exited; it claimed nothing after the signal.
    const drained = runEvents(recordFile)
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
    const events = runEvents(recordFile)
    expect(countBy(events, 'start')).toEqual(new Map(tasks.map((id) => [id, 1])))
    expect(countBy(events, 'done')).toEqual(new Map(tasks.map((id) => [id, 1])))
  })

  it('keeps renewing the claims of running tasks while it drains, so no other worker takes them over', async () => {
    const { recordFile, layer, spawn, startRescuer } = setup()
    // A task four visibility periods long, and another worker on the channel checking for stalled claims: were the
    // claim not renewed during the drain, that worker would recover it and run it a second time.
    const worker = spawn({
      taskMs: 2_000,
      visibilityMs: 500,
      concurrency: 1,
      shutdownTimeoutMs: 10_000,
      honourSignal: true,
    })
    await worker.ready
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'task-1' })
    await waitFor('the run to start', () => hasStarted(recordFile, 'task-1'))
    startRescuer()
    worker.child.kill('SIGTERM')
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })
    await sleep(300)

    expect(runEvents(recordFile)).toEqual([
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: worker.child.pid },
      { kind: 'done', taskId: 'task-1', pid: worker.child.pid },
    ])
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
  })

  it('returns a task still running when the grace period ends to the queue, uncounted, for the next worker', async () => {
    const { prefix, recordFile, layer, redis, spawn, startRescuer } = setup()
    const worker = spawn({
      taskMs: 5_000,
      visibilityMs: 600,
      concurrency: 1,
      shutdownTimeoutMs: 200,
      honourSignal: true,
    })
    await worker.ready
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'task-1' })
    await waitFor('the run to start', () => hasStarted(recordFile, 'task-1'))
    const signalledAt = Date.now()
    worker.child.kill('SIGTERM')
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })
    expect(Date.now() - signalledAt).toBeLessThan(2_000)

    // Released, not failed: back on the queue now (not after a retry delay), its attempt given back, no dead
    // letter, and no onFailure call (a shutdown is not the task's failure).
    expect(await redis.zcard(`${prefix}:switchyard:inflight:${JOBS}`)).toBe(0)
    expect(await redis.zcard(`${prefix}${JOBS}`)).toBe(1)
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'queued', attempts: 0 })
    expect(runEvents(recordFile)).toEqual([{ kind: 'start', taskId: 'task-1', attempt: 1, pid: worker.child.pid }])

    startRescuer()
    await waitFor('the task to succeed', async () => (await layer.tasks.getTaskState('task-1'))?.status === 'succeeded')
    expect(runEvents(recordFile)).toEqual([
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: worker.child.pid },
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: process.pid },
      { kind: 'done', taskId: 'task-1', pid: process.pid },
    ])
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(await layer.tasks.listDeadLetters(JOBS)).toEqual([])
  })

  it('past the grace period, never acks a task whose handler ignores its signal', async () => {
    const { prefix, recordFile, layer, redis, spawn, startRescuer } = setup()
    // The handler ignores the abort, as a careless one would, and finishes its work after the task was returned.
    const worker = spawn({
      taskMs: 1_500,
      visibilityMs: 600,
      concurrency: 1,
      shutdownTimeoutMs: 200,
      honourSignal: false,
    })
    await worker.ready
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'task-1' })
    await waitFor('the run to start', () => hasStarted(recordFile, 'task-1'))
    const signalledAt = Date.now()
    worker.child.kill('SIGTERM')
    await waitFor('the task to be returned', async () => (await redis.zcard(`${prefix}${JOBS}`)) === 1)
    const returnedInMs = Date.now() - signalledAt
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'queued', attempts: 0 })
    expect(await worker.exited, worker.output()).toEqual({ code: 0, signal: null })
    console.log(
      `sigterm: task returned ${returnedInMs} ms after the signal (grace 200 ms); the process exited after ` +
        `${Date.now() - signalledAt} ms`,
    )

    // Whatever the abandoned handler did afterwards, its run was not acked: the task is still queued, and the next
    // worker runs it (at least once: the abandoned handler's work is the careless handler's own duplicate).
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'queued', attempts: 0 })
    expect(countBy(runEvents(recordFile), 'fail').size).toBe(0)
    startRescuer()
    await waitFor('the task to succeed', async () => (await layer.tasks.getTaskState('task-1'))?.status === 'succeeded')
    const starts = runEvents(recordFile).filter((event) => event.kind === 'start')
    expect(starts.map((event) => event.pid)).toEqual([worker.child.pid, process.pid])
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
  })
})
