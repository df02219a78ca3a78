// layer.tasks.cancel across processes: the worker under test is the real CLI in a child process
// (`switchyard worker --app fixtures/worker-app.ts jobs`); this process cancels through its own Redis layer. The
// running task's ctx.signal aborts within about a renewal tick (visibilityMs / 3) of the worker, the task is
// neither retried nor dead-lettered, and a queued task cancelled meanwhile never starts.
import { afterEach, describe, expect, inject, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { JOBS } from './fixtures/recording-app.js'
import { hasStarted, Resources, runEvents, spawnWorkerProcess, uniquePrefix, waitFor } from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
const layers: RedisChannelLayer[] = []
afterEach(async () => {
  await resources.closeAll()
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
})

describe('cancelling a task run by a worker in another process', () => {
  it('aborts the running task within about a renewal tick, and never starts the queued one', async () => {
    const prefix = uniquePrefix()
    const recordFile = resources.tempFile('events.log')
    const layer = resources.layer(redisUrl, prefix)
    await layer.tasks.declareTaskChannels([JOBS])
    for (const id of ['running', 'queued', 'after']) await layer.send(JOBS, { type: 'job.run', idempotencyKey: id })
    const worker = spawnWorkerProcess(resources, {
      redisUrl,
      prefix,
      recordFile,
      // Renewal, and so the cancel check, every 300 ms; one slot, so the others wait in the queue.
      taskMs: 60_000,
      visibilityMs: 900,
      concurrency: 1,
      shutdownTimeoutMs: 1_000,
      honourSignal: true,
    })
    await worker.ready
    await waitFor('the first run to start', () => hasStarted(recordFile, 'running'))
    expect(await layer.tasks.cancel('queued')).toBe('queued')
    const cancelledAt = performance.now()
    expect(await layer.tasks.cancel('running')).toBe('running')
    // The aborted run frees the only slot: the next task starts, the cancelled queued one is skipped.
    await waitFor('the task after to start', () => hasStarted(recordFile, 'after'))
    const elapsedMs = performance.now() - cancelledAt
    // A renewal tick is 300 ms; allow a busy machine several.
    expect(elapsedMs).toBeLessThan(3_000)

    const events = runEvents(recordFile)
    expect(events.filter((event) => event.kind === 'start').map((event) => event.taskId)).toEqual(['running', 'after'])
    // Neither a failure (onFailure) nor a completion of the cancelled run.
    expect(events.filter((event) => event.taskId === 'running').map((event) => event.kind)).toEqual(['start'])
    expect(await layer.tasks.getTaskState('running')).toMatchObject({ status: 'cancelled', attempts: 1 })
    expect(await layer.tasks.getTaskState('queued')).toMatchObject({ status: 'cancelled', attempts: 0 })
    expect(await layer.tasks.listDeadLetters(JOBS)).toEqual([])
    expect(worker.output()).not.toMatch(/"level":(50|60)/)
  })
})

describe('cancelling a queued task whose payload the claiming script cannot read', () => {
  it.each(['json', 'encrypted msgpack'])('skips it at the start of the attempt (%s)', async (kind) => {
    // task-settle.lua reads task ids only from plain msgpack: other payloads are started by task-start.lua.
    const layer = new RedisChannelLayer({
      hosts: [redisUrl],
      prefix: uniquePrefix(),
      ...(kind === 'json' ? { serializer: 'json' as const } : { symmetricEncryptionKeys: ['a secret of ours'] }),
    })
    layers.push(layer)
    await layer.tasks.declareTaskChannels([JOBS])
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'doomed' })
    await layer.send(JOBS, { type: 'job.run', idempotencyKey: 'kept' })
    expect(await layer.tasks.cancel('doomed')).toBe('queued')
    const claimed = await layer.tasks.claim(JOBS, 10, 30_000)
    expect(claimed.map((task) => task.taskId)).toEqual(['kept'])
    expect(await layer.tasks.getTaskState('doomed')).toMatchObject({ status: 'cancelled', attempts: 0 })
    // Its claim was dropped, not left in flight for recovery to requeue: only `kept` is held.
    const snapshot = await layer.inspect()
    expect(snapshot.channels.find((channel) => channel.name === JOBS)).toMatchObject({ backlog: 0, inFlight: 1 })
  })
})
