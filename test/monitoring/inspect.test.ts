import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { LayerSnapshot } from '../../src/layers/snapshot.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { ProtocolTypeRouter } from '../../src/routing/protocol-router.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { sleep, waitFor } from '../support/wait.js'

const redisUrl = inject('redisUrl')
type Layer = InMemoryChannelLayer | RedisChannelLayer

const layers: Layer[] = []
const workers: WorkerHandle[] = []
const clients: Redis[] = []

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop()
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  for (const client of clients.splice(0)) client.disconnect()
})

function memoryLayer(): InMemoryChannelLayer {
  const layer = new InMemoryChannelLayer()
  layers.push(layer)
  return layer
}

/** Two layers on one prefix: two processes, as far as Redis can tell. */
function redisLayers(): [RedisChannelLayer, RedisChannelLayer] {
  const prefix = `m${randomBytes(6).toString('hex')}`
  const pair: [RedisChannelLayer, RedisChannelLayer] = [
    new RedisChannelLayer({ hosts: [redisUrl], prefix }),
    new RedisChannelLayer({ hosts: [redisUrl], prefix }),
  ]
  layers.push(...pair)
  return pair
}

/**
 * jobs: three sent; A claimed and retried a minute later, B claimed and buried, C claimed and still running.
 * emails: two queued and one delayed send.
 */
async function knownSequence(layer: Layer): Promise<void> {
  for (const key of ['a', 'b', 'c']) await layer.send('jobs', { type: 'job.run', idempotencyKey: key })
  const [a] = await layer.tasks.claim('jobs', 1, 30_000)
  if (a === undefined) throw new Error('nothing claimed')
  await layer.tasks.retry(a, 60_000, { error: 'Error: flaky' })
  const [b] = await layer.tasks.claim('jobs', 1, 30_000)
  if (b === undefined) throw new Error('nothing claimed')
  await layer.tasks.bury(b, { error: 'Error: broken' })
  expect(await layer.tasks.claim('jobs', 1, 30_000)).toHaveLength(1)
  await layer.send('emails', { type: 'email.send', n: 1 })
  await layer.send('emails', { type: 'email.send', n: 2 })
  await layer.send('emails', { type: 'email.send', n: 3 }, { delayMs: 60_000 })
}

const EXPECTED_CHANNELS = [
  { name: 'emails', backlog: 2, inFlight: 0, delayed: 1, deadLetters: 0 },
  { name: 'jobs', backlog: 0, inFlight: 1, delayed: 1, deadLetters: 1 },
]

class Counting extends RetryingConsumer {
  // A short visibility makes the renewal tick, and so the worker's report, come every 100 ms.
  static override visibilityMs = 300
  static override concurrency = 3
  async job_run(_message: { type: 'job.run' }, _ctx: TaskContext): Promise<void> {
    // Work is instant: only the counters matter here.
  }
}

function startWorker(layer: Layer): WorkerHandle {
  const worker = runWorker({
    application: ProtocolTypeRouter({ channel: ChannelNameRouter({ jobs: Counting.asApp() }) }),
    layer,
    channels: ['jobs'],
    shutdownTimeoutMs: 1_000,
  })
  workers.push(worker)
  return worker
}

/** A running worker shows in `inspect()` of `reader` with its counters, alive; once stopped, it is gone. */
async function checkWorkerLifecycle(worker: Layer, reader: Layer): Promise<void> {
  const handle = startWorker(worker)
  for (const key of ['w1', 'w2']) await worker.send('jobs', { type: 'job.run', idempotencyKey: key })
  await waitFor('the worker to report two processed tasks', async () => {
    const [entry] = (await reader.inspect()).workers
    return entry?.processed === 2
  })
  const snapshot = await reader.inspect()
  expect(snapshot.workers).toEqual([
    {
      id: `${hostname()}:${process.pid}:jobs`,
      host: hostname(),
      pid: process.pid,
      channel: 'jobs',
      concurrency: 3,
      inFlight: 0,
      processed: 2,
      failed: 0,
      retried: 0,
      dead: 0,
      startedAt: expect.any(Number) as number,
      heartbeatAgeMs: expect.any(Number) as number,
      alive: true,
    },
  ])
  expect(snapshot.workers[0]?.heartbeatAgeMs).toBeLessThan(1_000)
  await handle.stop()
  expect((await reader.inspect()).workers).toEqual([])
}

/** A worker that stopped reporting without saying goodbye (killed) turns alive=false after 3 renewal periods. */
async function checkSilentWorker(layer: Layer): Promise<void> {
  const report = {
    id: 'host-1:42:jobs',
    host: 'host-1',
    pid: 42,
    channel: 'jobs',
    concurrency: 1,
    inFlight: 1,
    processed: 5,
    failed: 1,
    retried: 1,
    dead: 0,
    startedAt: Date.now(),
    renewalMs: 50,
  }
  await layer.tasks.reportWorker(report)
  expect((await layer.inspect()).workers).toMatchObject([{ id: 'host-1:42:jobs', processed: 5, alive: true }])
  await sleep(200)
  const [entry] = (await layer.inspect()).workers
  expect(entry).toMatchObject({ id: 'host-1:42:jobs', alive: false })
  expect(entry?.heartbeatAgeMs).toBeGreaterThanOrEqual(150)
  expect(entry).not.toHaveProperty('renewalMs')
}

/**
 * The server registry: `writer` reports, `reader` (another process on Redis) lists it with its report age; a
 * silent server turns alive=false after 3 report intervals; forgetServer removes it.
 */
async function checkServerRegistry(writer: Layer, reader: Layer): Promise<void> {
  const report = {
    id: 'host-1:42:8000',
    host: 'host-1',
    pid: 42,
    connections: 3,
    accepted: 4,
    rejected: 1,
    closedSlow: 0,
    droppedOutbound: 2,
    startedAt: Date.now(),
    reportIntervalMs: 50,
  }
  await writer.tasks.reportServer(report)
  await writer.tasks.reportServer({ ...report, id: 'host-2:7:unlistened', host: 'host-2', pid: 7, connections: 0 })
  const { servers } = await reader.inspect()
  expect(servers.map((server) => server.id)).toEqual(['host-1:42:8000', 'host-2:7:unlistened'])
  expect(servers[0]).toMatchObject({ connections: 3, accepted: 4, rejected: 1, droppedOutbound: 2, alive: true })
  expect(servers[0]).not.toHaveProperty('reportIntervalMs')
  await sleep(200)
  const [silent] = await reader.tasks.listServers()
  expect(silent).toMatchObject({ id: 'host-1:42:8000', alive: false })
  expect(silent?.heartbeatAgeMs).toBeGreaterThanOrEqual(150)
  await reader.tasks.forgetServer('host-1:42:8000')
  expect((await writer.tasks.listServers()).map((server) => server.id)).toEqual(['host-2:7:unlistened'])
}

function groupOf(snapshot: LayerSnapshot, name: string) {
  return snapshot.groups.find((group) => group.name === name)
}

describe('inspect() on the in-memory layer', () => {
  it('counts backlog, in-flight, delayed and dead letters after a known sequence', async () => {
    const layer = memoryLayer()
    await knownSequence(layer)
    const snapshot = await layer.inspect()
    expect(snapshot.channels).toEqual(EXPECTED_CHANNELS)
    expect(snapshot.stats.sent).toBeGreaterThanOrEqual(5)
    expect(snapshot.takenAt).toBeLessThanOrEqual(Date.now())
    expect(snapshot).not.toHaveProperty('truncated')
  })

  it('counts group members per process, plain channels as their own owner', async () => {
    const layer = memoryLayer()
    const first = await layer.newChannel()
    const second = await layer.newChannel()
    await layer.groupAdd('chat', first)
    await layer.groupAdd('chat', second)
    await layer.groupAdd('chat', 'bot')
    const process = first.slice(0, first.indexOf('!') + 1)
    expect((await layer.inspect()).groups).toEqual([
      {
        name: 'chat',
        members: 3,
        byProcess: [
          { process: 'bot', members: 1 },
          { process, members: 2 },
        ],
      },
    ])
  })

  it('stops at maxChannels and maxGroups and says so', async () => {
    const layer = memoryLayer()
    for (const channel of ['c1', 'c2', 'c3']) await layer.send(channel, { type: 'x.y' })
    await layer.groupAdd('g1', 'c1')
    await layer.groupAdd('g2', 'c1')
    const snapshot = await layer.inspect({ maxChannels: 2, maxGroups: 1 })
    expect(snapshot.channels.map((channel) => channel.name)).toEqual(['c1', 'c2'])
    expect(snapshot.groups.map((group) => group.name)).toEqual(['g1'])
    expect(snapshot.truncated).toBe(true)
    await expect(layer.inspect({ maxChannels: 0 })).rejects.toThrow(/maxChannels/)
  })

  it('lists a running worker with its counters, and forgets it once stopped', async () => {
    const layer = memoryLayer()
    await checkWorkerLifecycle(layer, layer)
  })

  it('marks a worker whose heartbeat stopped as not alive', async () => {
    await checkSilentWorker(memoryLayer())
  })

  it('lists reported servers, marks silent ones not alive, and forgets them', async () => {
    const layer = memoryLayer()
    await checkServerRegistry(layer, layer)
  })
})

describe('inspect() on Redis', () => {
  it('counts backlog, in-flight, delayed and dead letters after a known sequence, from another process', async () => {
    const [writer, reader] = redisLayers()
    await knownSequence(writer)
    // Keys under the prefix that are not channels: other tools' keys (with a `:`), and Switchyard's own.
    const raw = new Redis(redisUrl)
    clients.push(raw)
    await raw.zadd(`${writer.options.prefix}:other:thing`, 1, 'x')
    const snapshot = await reader.inspect()
    expect(snapshot.channels).toEqual(EXPECTED_CHANNELS)
    expect(snapshot.stats).toMatchObject({ redisErrors: 0 })
  })

  it('counts group members per process across two layers', async () => {
    const [a, b] = redisLayers()
    const a1 = await a.newChannel()
    const a2 = await a.newChannel()
    const b1 = await b.newChannel()
    for (const channel of [a1, a2, b1, 'bot']) await a.groupAdd('chat', channel)
    await b.groupAdd('lobby', b1)
    const snapshot = await b.inspect()
    expect(groupOf(snapshot, 'chat')).toEqual({
      name: 'chat',
      members: 4,
      byProcess: [
        { process: 'bot', members: 1 },
        { process: `specific.${a.clientId}!`, members: 2 },
        { process: `specific.${b.clientId}!`, members: 1 },
      ].sort((x, y) => (x.process < y.process ? -1 : 1)),
    })
    expect(groupOf(snapshot, 'lobby')).toEqual({
      name: 'lobby',
      members: 1,
      byProcess: [{ process: `specific.${b.clientId}!`, members: 1 }],
    })
  })

  it('stops at maxChannels and says so', async () => {
    const [layer] = redisLayers()
    for (const channel of ['c1', 'c2', 'c3']) await layer.send(channel, { type: 'x.y' })
    const snapshot = await layer.inspect({ maxChannels: 2 })
    expect(snapshot.channels).toHaveLength(2)
    expect(snapshot.truncated).toBe(true)
  })

  it('lists a worker running in one process from another, and forgets it once stopped', async () => {
    const [worker, reader] = redisLayers()
    await checkWorkerLifecycle(worker, reader)
  })

  it('marks a worker whose heartbeat stopped as not alive', async () => {
    const [layer] = redisLayers()
    await checkSilentWorker(layer)
  })

  it('lists servers reported by one process from another, marks silent ones not alive, and forgets them', async () => {
    const [writer, reader] = redisLayers()
    await checkServerRegistry(writer, reader)
  })
})
