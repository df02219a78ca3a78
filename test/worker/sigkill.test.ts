// A worker SIGKILLed mid-task loses nothing: its claim stays in flight, and once its visibility deadline has
// passed twice another worker recovers the task and completes it, exactly once more. The killed worker is the real
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
} from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

const VISIBILITY_MS = 600

describe('a worker killed with SIGKILL mid-task', () => {
  it('leaves the task in flight, and another worker completes it once within a few visibility periods', async () => {
    const prefix = uniquePrefix()
    const recordFile = resources.tempFile('events.log')
    const layer = resources.layer(redisUrl, prefix)
    const redis = resources.client(redisUrl)
    const inflight = `${prefix}:switchyard:inflight:${JOBS}`

    const doomed = spawnWorkerProcess(resources, {
      redisUrl,
      prefix,
      recordFile,
      taskMs: 10_000,
      visibilityMs: VISIBILITY_MS,
      concurrency: 1,
      shutdownTimeoutMs: 10_000,
      honourSignal: true,
    })
    await doomed.ready
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'task-1' })
    await waitFor('the first run to start', () => hasStarted(recordFile, 'task-1'))
    expect(await redis.zcard(inflight)).toBe(1)
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'running', attempts: 1 })

    doomed.child.kill('SIGKILL')
    expect(await doomed.exited).toEqual({ code: null, signal: 'SIGKILL' })
    const killedAt = Date.now()
    // Nothing acked, nothing lost: the claim is still in flight, the queue empty.
    expect(await redis.zcard(inflight)).toBe(1)
    expect(await redis.zcard(`${prefix}${JOBS}`)).toBe(0)

    resources.worker(
      runWorker({
        application: recordingApplication({ recordFile, taskMs: 5, visibilityMs: VISIBILITY_MS }),
        layer: resources.layer(redisUrl, prefix),
        channels: [JOBS],
      }),
    )
    await waitFor(
      'the task to succeed on the second worker',
      async () => (await layer.tasks.getTaskState('task-1'))?.status === 'succeeded',
      { timeoutMs: 5 * VISIBILITY_MS },
    )
    const recoveredInMs = Date.now() - killedAt
    console.log(`sigkill: the killed worker's task completed on the next worker ${recoveredInMs} ms after the kill`)
    // Renewed every visibilityMs / 3, the deadline was at most one visibility period ahead at the kill; then two
    // stalled checks (visibilityMs / 3 apart) and a claim poll.
    expect(recoveredInMs).toBeLessThan(3 * VISIBILITY_MS)
    // And no further copy turns up later (a stale claim recovered twice would run a third time).
    await sleep(VISIBILITY_MS)

    const events = runEvents(recordFile)
    expect(events.filter((event) => event.kind === 'start')).toEqual([
      { kind: 'start', taskId: 'task-1', attempt: 1, pid: doomed.child.pid },
      { kind: 'start', taskId: 'task-1', attempt: 2, pid: process.pid },
    ])
    expect(countBy(events, 'done')).toEqual(new Map([['task-1', 1]]))
    expect(countBy(events, 'fail').size).toBe(0)
    expect(await layer.tasks.getTaskState('task-1')).toMatchObject({ status: 'succeeded', attempts: 2 })
    expect(await redis.zcard(inflight)).toBe(0)
    expect(await layer.tasks.listDeadLetters(JOBS)).toEqual([])
  })
})
