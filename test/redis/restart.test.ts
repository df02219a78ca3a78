import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { JsonWebsocketConsumer } from '../../consumers/json-websocket-consumer.js'
import {
  ChannelNameRouter,
  ProtocolTypeRouter,
  RedisUnavailableError,
  route,
  serve,
  URLRouter,
} from '../../src/index.js'
import type { TaskContext } from '../../src/worker/retry-options.js'
import { runWorker } from '../../src/worker/worker.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { RedisLayerOptions } from '../../src/layers/redis/redis-options.js'
import { freeLoopbackPort, startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { rejectionOf } from '../conformance/context.js'
import { RawClients, redisServerBin, sleep, uniquePrefix, waitFor } from './helpers.js'

const RETRY_WINDOW_MS = 3_000
const PASSWORD = 's3cret-pw'
// An ACL user besides the password-less default one: the layer logs in with a password that must never show up
// in an error, while startPrivateRedis can still PING the server without one.
const ACL_USER = ['--user', 'alice', 'on', `>${PASSWORD}`, '~*', '&*', '+@all']

const bin = redisServerBin()
const raw = new RawClients()
const layers: RedisChannelLayer[] = []
const servers: RunningRedis[] = []
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}

function layer(options: RedisLayerOptions): RedisChannelLayer {
  const made = new RedisChannelLayer(options)
  layers.push(made)
  return made
}

async function startServer(port: number): Promise<RunningRedis> {
  const server = await startPrivateRedis(bin, { port, extraArgs: ACL_USER })
  servers.push(server)
  return server
}

/** The outcome of a promise without ever leaving it unhandled. */
function settle<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
}

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled)
  unhandled.length = 0
  raw.closeAll()
  // Closing must not hang even when a server is already gone.
  await Promise.all(layers.splice(0).map((made) => made.close()))
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

describe('a Redis restart during traffic', () => {
  it('fails sends during the outage, then reconnects, re-adds memberships and resumes receives', async () => {
    process.on('unhandledRejection', onUnhandled)
    const port = await freeLoopbackPort()
    const host = `127.0.0.1:${port}`
    await startServer(port)
    const options = {
      hosts: [`redis://alice:${PASSWORD}@${host}`],
      prefix: uniquePrefix(),
      retryWindowMs: RETRY_WINDOW_MS,
    }
    const a = layer(options)
    const b = layer(options)
    await Promise.all([a.ready(), b.ready()])
    const member = await b.newChannel()
    await b.groupAdd('room', member)
    await a.groupSend('room', { type: 'room.before' })
    expect(await b.receive(member, { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'room.before' })

    // Receives waiting across the outage: one on B's own channel, one on a normal channel.
    const memberReceive = settle(b.receive(member))
    const jobReceive = settle(b.receive('jobs'))
    await sleep(50)
    const errorsBefore = a.stats().redisErrors
    const first = servers[0]!
    await first.stop()
    // A refused reconnect attempt: A knows the server is gone, so the next send is never written to a dead socket.
    await waitFor('A to see the server gone', () => a.stats().redisErrors > errorsBefore)

    const failedAt = Date.now()
    const error = await rejectionOf(() => a.send('jobs', { type: 'job.lost' }))
    const waited = Date.now() - failedAt
    expect(error).toBeInstanceOf(RedisUnavailableError)
    expect(error.code).toBe('SWY_REDIS_UNAVAILABLE')
    expect(error.message).toContain(host)
    expect(error.message).not.toContain(PASSWORD)
    expect(error.message).not.toContain('alice')
    // It retried through the window (the command was never sent), then gave up.
    expect(waited).toBeGreaterThanOrEqual(RETRY_WINDOW_MS - 100)
    expect(waited).toBeLessThan(RETRY_WINDOW_MS + 1_500)

    // Issued while Redis is down, answered once it is back within the window.
    const sentAt = Date.now()
    const comeback = a.send('jobs', { type: 'job.comeback' })
    await startServer(port)
    await comeback
    expect(Date.now() - sentAt).toBeLessThan(RETRY_WINDOW_MS + 500)

    await waitFor('both layers to reconnect', () => a.stats().reconnects >= 1 && b.stats().reconnects >= 1)
    // The restarted server had nothing (no persistence): B re-added its membership by itself.
    const check = raw.connect(`redis://${host}`)
    await waitFor('B to re-add its membership', async () =>
      (await check.zrange(`${options.prefix}:group:room`, 0, '-1')).includes(member),
    )
    await a.groupSend('room', { type: 'room.after' })
    await expect(withTimeout(memberReceive, 3_000)).resolves.toEqual({ value: { type: 'room.after' } })
    // The receive started before the outage got the send that came in while Redis was coming back; the failed
    // one was never queued.
    await expect(withTimeout(jobReceive, 3_000)).resolves.toEqual({ value: { type: 'job.comeback' } })
    await a.send('jobs', { type: 'job.next' })
    expect(await b.receive('jobs', { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'job.next' })
    await a.send(member, { type: 'direct.after' })
    expect(await b.receive(member, { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'direct.after' })
    expect(unhandled).toEqual([])
    await a.flush()
  })

  it('closes at once while Redis is down, though a heartbeat is still retrying its write', async () => {
    const port = await freeLoopbackPort()
    await startServer(port)
    // A long retry window: a heartbeat caught in it would hold close() (which waits for heartbeats under way, so that
    // none writes this process back into a registry it left) for up to 10 s, unless close() makes it give up.
    const made = layer({
      hosts: [`redis://127.0.0.1:${port}`],
      prefix: uniquePrefix(),
      retryWindowMs: 10_000,
      heartbeatIntervalMs: 100,
      staleAfterMs: 1_000,
    })
    await made.newChannel()
    await made.ready()
    const errorsBefore = made.stats().redisErrors
    await servers[0]!.stop()
    await waitFor('the layer to see the server gone', () => made.stats().redisErrors > errorsBefore)
    // Heartbeats come every 100 ms: one is waiting to retry by now.
    await sleep(300)
    const closedAt = Date.now()
    await made.close()
    expect(Date.now() - closedAt).toBeLessThan(1_500)
  }, 20_000)

  it('rejects ready() while Redis is unreachable at start, and connects once it appears', async () => {
    process.on('unhandledRejection', onUnhandled)
    const port = await freeLoopbackPort()
    const made = layer({ hosts: [`redis://127.0.0.1:${port}`], prefix: uniquePrefix(), retryWindowMs: 500 })
    const startedAt = Date.now()
    const error = await rejectionOf(() => made.ready(500))
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(450)
    expect(error).toBeInstanceOf(RedisUnavailableError)
    expect(error.code).toBe('SWY_REDIS_UNAVAILABLE')
    expect(error.message).toContain(`127.0.0.1:${port}`)
    // Still trying in the background.
    const errors = made.stats().redisErrors
    await waitFor('another connection attempt', () => made.stats().redisErrors > errors)

    await startServer(port)
    await made.ready(5_000)
    await made.send('hello', { type: 'hello.world' })
    expect(await made.receive('hello', { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'hello.world' })
    expect(unhandled).toEqual([])
    await made.flush()
  })
})

// SIGSTOP: the connections stay open and nothing answers, as behind a network partition that sends no reset, where
// every command waits for ever. Whatever stops the process must still end, within the bounds it documents.
describe('a Redis that does not answer', () => {
  /**
   * Freezes `server`, waits `afterMs`, then times `stop`: Infinity if it has not ended after 10 s (each of these
   * waited for ever before). The server runs again afterwards.
   */
  async function timedWhileFrozen(server: RunningRedis, stop: () => Promise<void>, afterMs = 0): Promise<number> {
    process.kill(server.pid, 'SIGSTOP')
    try {
      await sleep(afterMs)
      const startedAt = Date.now()
      const outcome = await withTimeout(stop(), 10_000)
      return outcome === 'timed out' ? Number.POSITIVE_INFINITY : Date.now() - startedAt
    } finally {
      process.kill(server.pid, 'SIGCONT')
    }
  }

  it('closes within its retry window while Redis is frozen, though its commands then wait for ever', async () => {
    const port = await freeLoopbackPort()
    const server = await startServer(port)
    // A heartbeat, the deregistration and QUIT each wait for ever on a frozen server.
    const made = layer({
      hosts: [`redis://127.0.0.1:${port}`],
      prefix: uniquePrefix(),
      retryWindowMs: 1_000,
      heartbeatIntervalMs: 100,
    })
    await made.groupAdd('room', await made.newChannel())
    await made.ready()
    // Heartbeats come every 100 ms: one is waiting for its reply by 300 ms.
    const closeMs = await timedWhileFrozen(server, () => made.close(), 300)
    // The retry window for what it leaves in Redis, then the blocking read ends as its connection closes (about 2 s
    // after the disconnect here, the peer never answering the FIN).
    expect(closeMs).toBeLessThan(5_000)
  }, 20_000)

  it('stops a worker within twice its grace while Redis is frozen, though a task is still running', async () => {
    const port = await freeLoopbackPort()
    const server = await startServer(port)
    const made = layer({ hosts: [`redis://127.0.0.1:${port}`], prefix: uniquePrefix(), retryWindowMs: 1_000 })
    let started = 0
    class Slow extends RetryingConsumer {
      static override idlePollMs = 100
      async job_run(_message: unknown, ctx: TaskContext): Promise<void> {
        started++
        await new Promise((resolve) => {
          ctx.signal.addEventListener('abort', resolve)
        })
      }
    }
    await made.ready()
    const worker = runWorker({
      application: ProtocolTypeRouter({ channel: ChannelNameRouter({ jobs: Slow.asApp() }) }),
      layer: made,
      channels: ['jobs'],
      shutdownTimeoutMs: 500,
    })
    await made.send('jobs', { type: 'job.run' })
    await waitFor('the task to start', () => started === 1)
    // The grace for the running task, then as long again to give its claim back and leave the registry: neither
    // gets an answer.
    expect(await timedWhileFrozen(server, () => worker.stop())).toBeLessThan(2_000)
  }, 20_000)

  it('closes a server with a group member within its close timeouts while Redis is frozen', async () => {
    const port = await freeLoopbackPort()
    const server = await startServer(port)
    const made = layer({ hosts: [`redis://127.0.0.1:${port}`], prefix: uniquePrefix(), retryWindowMs: 1_000 })
    class Member extends JsonWebsocketConsumer {
      static override groups = ['room']
    }
    await made.ready()
    const served = await serve({
      application: ProtocolTypeRouter({ websocket: URLRouter([route('/ws/', Member.asApp())]) }),
      layer: made,
      host: '127.0.0.1',
      port: 0,
      applicationCloseTimeoutMs: 1_000,
      statsReportIntervalMs: 500,
    })
    const client = new WebSocket(`ws://127.0.0.1:${served.port}/ws/`)
    try {
      await new Promise((resolve, reject) => {
        client.once('open', resolve)
        client.once('error', reject)
      })
      await waitFor('the member to join its group', async () => (await made.inspect()).groups.length === 1)
      // The member's disconnect leaves its group (applicationCloseTimeoutMs), then the server leaves the registry
      // (statsReportIntervalMs): neither gets an answer.
      expect(await timedWhileFrozen(server, () => served.close())).toBeLessThan(3_000)
    } finally {
      client.terminate()
    }
  }, 20_000)
})

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  return Promise.race([promise, sleep(ms).then(() => 'timed out' as const)])
}
