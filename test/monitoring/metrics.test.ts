import { randomBytes } from 'node:crypto'

import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'

import { NonRetryableError } from '../../src/control.js'
import { JsonWebsocketConsumer } from '../../consumers/json-websocket-consumer.js'
import type { TaskContext } from '../../src/worker/retry-options.js'
import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import type { Application } from '../../src/application.js'
import type { ChannelLayer } from '../../src/layers/channel-layer.js'
import { InvalidOptionError } from '../../src/errors.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { BacklogMonitor } from '../../src/monitoring/backlog-monitor.js'
import { createMetrics } from '../../src/monitoring/metrics.js'
import { switchyardMetrics, type SwitchyardMetricsOptions } from '../../src/monitoring/metrics-plugin.js'
import type { LayerSnapshot } from '../../src/layers/snapshot.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { ProtocolTypeRouter } from '../../src/routing/protocol-router.js'
import { switchyard } from '../../src/server/plugin.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { waitFor } from '../support/wait.js'
import { requestWithHost, requestWithoutHost } from './host-request.js'

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Exposition {
  readonly types: ReadonlyMap<string, string>
  readonly samples: readonly Sample[]
}

/** Parses the Prometheus text format (0.0.4) as prom-client writes it: `# TYPE` lines and samples. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>()
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2])
    if (line.startsWith('#')) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (sample?.[1] === undefined || sample[3] === undefined) throw new Error(`unparsable line: ${line}`)
    const labels: Record<string, string> = {}
    for (const pair of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1] !== undefined && pair[2] !== undefined) labels[pair[1]] = pair[2]
    }
    samples.push({ name: sample[1], labels, value: Number(sample[3]) })
  }
  return { types, samples }
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = exposition.samples.filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )
  if (matching.length > 1) throw new Error(`${String(matching.length)} samples match ${name}`)
  return matching[0]?.value
}

const redisUrl = inject('redisUrl')
const METRICS_TOKEN = 'a-metrics-token-for-tests'
const cleanup: (() => Promise<void>)[] = []
const sockets: WebSocket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate()
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function startApp(
  application: Application,
  layer: ChannelLayer,
  metrics: SwitchyardMetricsOptions,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ forceCloseConnections: 'idle' })
  await app.register(switchyard, { application, layer })
  await app.register(switchyardMetrics, metrics)
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  cleanup.push(() => app.close())
  return { app, url }
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const response = await fetch(`${url}/metrics`, { headers })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/plain')
  return parseExposition(await response.text())
}

/** Opens a client that collects the JSON messages it receives. */
async function openClient(url: string): Promise<unknown[]> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws/room/`)
  sockets.push(socket)
  const received: unknown[] = []
  socket.on('message', (data: Buffer) => received.push(JSON.parse(data.toString())))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return Object.assign(received, { socket })
}

class Room extends JsonWebsocketConsumer<{ text: string }, { text: string }> {
  static override groups = ['room']

  override async receiveJson(content: { text: string }): Promise<void> {
    await this.channelLayer.groupSend('room', { type: 'room.message', text: content.text })
  }

  async room_message(message: { type: 'room.message'; text: string }): Promise<void> {
    await this.sendJson({ text: message.text })
  }
}

function socketOf(received: unknown[]): WebSocket {
  return (received as unknown[] & { socket: WebSocket }).socket
}

describe('switchyardMetrics on an in-memory layer', () => {
  it('reports connections, consumer messages, group sends, their fan-out and drops by reason', async () => {
    const layer = new InMemoryChannelLayer({ capacity: 1 })
    cleanup.push(() => layer.close())
    const { url } = await startApp(Room.asApp(), layer, { layer })
    // A member nobody reads: the first group send fills it (capacity 1), the second is dropped for it.
    await layer.groupAdd('room', 'stuck')

    const before = await scrape(url)
    expect(valueOf(before, 'switchyard_connections')).toBe(0)
    expect(valueOf(before, 'switchyard_group_sends_total')).toBe(0)
    expect(valueOf(before, 'switchyard_dropped_messages_total', { reason: 'capacity' })).toBe(0)

    const alice = await openClient(url)
    const bob = await openClient(url)
    await waitFor('two connections', async () => valueOf(await scrape(url), 'switchyard_connections') === 2)
    socketOf(alice).send(JSON.stringify({ text: 'one' }))
    await waitFor('the first group message', () => alice.length === 1 && bob.length === 1)
    socketOf(bob).send(JSON.stringify({ text: 'two' }))
    await waitFor('the second group message', () => alice.length === 2 && bob.length === 2)
    await expect(layer.send('stuck', { type: 'room.message', text: 'direct' })).rejects.toThrow(/full/)

    const after = await scrape(url)
    expect(after.types.get('switchyard_connections')).toBe('gauge')
    expect(valueOf(after, 'switchyard_connections')).toBe(2)
    expect(valueOf(after, 'switchyard_handshakes_total', { outcome: 'accepted' })).toBe(2)
    expect(after.types.get('switchyard_group_sends_total')).toBe('counter')
    expect(valueOf(after, 'switchyard_group_sends_total')).toBe(2)
    expect(after.types.get('switchyard_group_send_fanout')).toBe('histogram')
    expect(valueOf(after, 'switchyard_group_send_fanout_count')).toBe(2)
    // alice, bob and stuck, then alice and bob: stuck was full.
    expect(valueOf(after, 'switchyard_group_send_fanout_sum')).toBe(5)
    expect(valueOf(after, 'switchyard_group_send_fanout_bucket', { le: '2' })).toBe(1)
    expect(valueOf(after, 'switchyard_dropped_messages_total', { reason: 'capacity' })).toBe(1)
    expect(valueOf(after, 'switchyard_dropped_messages_total', { reason: 'slow_client' })).toBe(0)
    expect(valueOf(after, 'switchyard_layer_sends_rejected_total')).toBe(1)
    // Each consumer: websocket.connect, one websocket.receive between them, two room.message.
    expect(valueOf(after, 'switchyard_consumer_messages_total', { consumer: 'Room', direction: 'in' })).toBe(2 + 2 + 4)
    // Each consumer: websocket.accept and two websocket.send.
    expect(valueOf(after, 'switchyard_consumer_messages_total', { consumer: 'Room', direction: 'out' })).toBe(6)
    expect(valueOf(after, 'switchyard_layer_messages_sent_total')).toBe(5)
    expect(valueOf(after, 'switchyard_layer_messages_received_total')).toBe(4)
    expect(after.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge')
    expect(valueOf(after, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0)
    // The memory layer has no Redis counters.
    expect(valueOf(after, 'switchyard_redis_errors_total')).toBe(0)

    socketOf(bob).close()
    await waitFor('one connection', async () => valueOf(await scrape(url), 'switchyard_connections') === 1)
  })

  it('records consumer and group-send events only while open', async () => {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    const open = createMetrics({ layer, defaultMetrics: false })
    const closed = createMetrics({ layer, defaultMetrics: false })
    cleanup.push(async () => {
      open.close()
    })
    closed.close()
    closed.close()
    await layer.groupAdd('room', 'member')
    await layer.groupSend('room', { type: 'room.message', text: 'hello' })
    expect(valueOf(parseExposition(await open.registry.metrics()), 'switchyard_group_send_fanout_sum')).toBe(1)
    expect(valueOf(parseExposition(await closed.registry.metrics()), 'switchyard_group_send_fanout_count')).toBe(0)
    // Both still read the layer's own counters.
    expect(valueOf(parseExposition(await closed.registry.metrics()), 'switchyard_group_sends_total')).toBe(1)
  })
})

describe('switchyardMetrics access (issue 14)', () => {
  it('without a token, answers loopback Host names only, so a DNS-rebound page cannot scrape', async () => {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    const { url } = await startApp(Room.asApp(), layer, { layer, defaultMetrics: false })
    for (const host of ['evil.example:8000', 'evil.example', 'localhost.:8000', '127.1:8000', '10.0.0.5:9100']) {
      const refused = await requestWithHost(`${url}/metrics`, host)
      expect(refused.status, host).toBe(421)
      expect(JSON.parse(refused.body)).toMatchObject({ message: expect.stringMatching(/token/) as string })
      expect(refused.body).not.toContain('switchyard_connections')
    }
    expect(await requestWithoutHost(`${url}/metrics`)).toBe(421)
    for (const host of ['127.0.0.1:8000', 'localhost:8000', '[::1]:8000', 'localhost']) {
      const scraped = await requestWithHost(`${url}/metrics`, host)
      expect(scraped.status, host).toBe(200)
      expect(scraped.body).toContain('switchyard_connections')
    }
  })

  it('without a token, answers loopback clients only, whatever Host they send', async () => {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    const { app } = await startApp(Room.asApp(), layer, { layer, defaultMetrics: false })
    const remote = await app.inject({ url: '/metrics', remoteAddress: '203.0.113.7', headers: { host: 'localhost' } })
    expect(remote.statusCode).toBe(403)
    expect(remote.body).not.toContain('switchyard_connections')
    const local = await app.inject({
      url: '/metrics',
      remoteAddress: '::ffff:127.0.0.1',
      headers: { host: 'localhost' },
    })
    expect(local.statusCode).toBe(200)
    const withToken = await startApp(Room.asApp(), layer, { layer, token: METRICS_TOKEN, defaultMetrics: false })
    const authorized = await withToken.app.inject({
      url: '/metrics',
      remoteAddress: '203.0.113.7',
      headers: { host: 'metrics.example', authorization: `Bearer ${METRICS_TOKEN}` },
    })
    expect(authorized.statusCode).toBe(200)
  })

  it('with a token, the token decides as before, whatever the Host', async () => {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    const { url } = await startApp(Room.asApp(), layer, { layer, token: METRICS_TOKEN, defaultMetrics: false })
    const auth = { authorization: `Bearer ${METRICS_TOKEN}` }
    expect((await requestWithHost(`${url}/metrics`, 'evil.example:8000')).status).toBe(401)
    expect((await requestWithHost(`${url}/metrics`, 'localhost:8000')).status).toBe(401)
    expect((await requestWithHost(`${url}/metrics`, 'prometheus-target.example:9100', { headers: auth })).status).toBe(
      200,
    )
    expect((await requestWithHost(`${url}/metrics`, '127.0.0.1:8000', { headers: auth })).status).toBe(200)
  })

  it("refuses a token shorter than the dashboard's 16 characters, without echoing it", async () => {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    for (const token of ['', 's3cret', 'fifteen-chars!!']) {
      const app = Fastify()
      cleanup.push(() => app.close())
      const registered = app.register(switchyardMetrics, { layer, token, defaultMetrics: false }).ready()
      await expect(registered).rejects.toThrow(InvalidOptionError)
      await expect(registered).rejects.toThrow(/`token`.*at least 16 characters/)
      if (token !== '') await expect(registered).rejects.not.toThrow(token)
    }
  })
})

describe('createMetrics backlog', () => {
  function inspectableLayer(inspect: () => Promise<LayerSnapshot>): ChannelLayer {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    return Object.assign(layer, { inspect })
  }

  it('reads backlog per channel from inspect(), keeping the longest 1000', async () => {
    const channels = Array.from({ length: 1500 }, (_, index) => ({
      name: `jobs.${String(index)}`,
      backlog: index,
      inFlight: 0,
      delayed: 0,
      deadLetters: 0,
    }))
    const layer = inspectableLayer(async () => ({
      takenAt: Date.now(),
      channels,
      groups: [],
      workers: [],
      servers: [],
      stats: layer.stats(),
    }))
    const metrics = createMetrics({ layer, defaultMetrics: false })
    cleanup.push(async () => {
      metrics.close()
    })
    const exposition = parseExposition(await metrics.registry.metrics())
    const backlog = exposition.samples.filter((sample) => sample.name === 'switchyard_channel_backlog')
    expect(backlog).toHaveLength(1000)
    expect(valueOf(exposition, 'switchyard_channel_backlog', { channel: 'jobs.1499' })).toBe(1499)
    expect(valueOf(exposition, 'switchyard_channel_backlog', { channel: 'jobs.499' })).toBeUndefined()
  })

  it('counts a failed inspect() as a scrape error and shows no stale backlog', async () => {
    let fail = false
    const layer = inspectableLayer(async () => {
      if (fail) throw new Error('redis is down')
      return {
        takenAt: Date.now(),
        channels: [{ name: 'jobs', backlog: 7, inFlight: 0, delayed: 0, deadLetters: 0 }],
        groups: [],
        workers: [],
        servers: [],
        stats: layer.stats(),
      }
    })
    const metrics = createMetrics({ layer, defaultMetrics: false })
    cleanup.push(async () => {
      metrics.close()
    })
    expect(valueOf(parseExposition(await metrics.registry.metrics()), 'switchyard_channel_backlog')).toBe(7)
    fail = true
    const exposition = parseExposition(await metrics.registry.metrics())
    expect(valueOf(exposition, 'switchyard_channel_backlog')).toBeUndefined()
    expect(valueOf(exposition, 'switchyard_scrape_errors_total', { source: 'inspect' })).toBe(1)
  })

  it('rejects a prefix Prometheus cannot use', () => {
    expect(() => createMetrics({ prefix: 'switch-yard_' })).toThrow(/prefix/)
  })
})

describe('createMetrics backlog thresholds', () => {
  it("exposes each channel's threshold and whether the monitor's latest check found it over", async () => {
    const layer = new InMemoryChannelLayer()
    cleanup.push(() => layer.close())
    const monitor = new BacklogMonitor({ layer, thresholds: { 'jobs.*': 1, emails: 10 } })
    const metrics = createMetrics({ layer, backlog: monitor, defaultMetrics: false })
    cleanup.push(async () => {
      metrics.close()
    })
    for (const channel of ['jobs.a', 'jobs.a', 'jobs.b', 'emails', 'other']) await layer.send(channel, { type: 'x.y' })
    const threshold = 'switchyard_channel_backlog_threshold'
    const over = 'switchyard_channel_backlog_over_threshold'

    let exposition = parseExposition(await metrics.registry.metrics())
    expect(exposition.types.get(threshold)).toBe('gauge')
    expect(exposition.types.get(over)).toBe('gauge')
    // Before any check: thresholds known, nothing over.
    expect(valueOf(exposition, over, { channel: 'jobs.a' })).toBe(0)

    await monitor.check()
    exposition = parseExposition(await metrics.registry.metrics())
    expect(valueOf(exposition, threshold, { channel: 'jobs.a' })).toBe(1)
    expect(valueOf(exposition, threshold, { channel: 'jobs.b' })).toBe(1)
    expect(valueOf(exposition, threshold, { channel: 'emails' })).toBe(10)
    expect(valueOf(exposition, over, { channel: 'jobs.a' })).toBe(1)
    expect(valueOf(exposition, over, { channel: 'jobs.b' })).toBe(0)
    expect(valueOf(exposition, over, { channel: 'emails' })).toBe(0)
    // No threshold matches `other`: no series.
    expect(valueOf(exposition, threshold, { channel: 'other' })).toBeUndefined()
    expect(valueOf(exposition, over, { channel: 'other' })).toBeUndefined()

    // Drained: the next check clears the alert, and the channel leaves the scrape.
    await layer.receive('jobs.a')
    await layer.receive('jobs.a')
    await monitor.check()
    exposition = parseExposition(await metrics.registry.metrics())
    expect(valueOf(exposition, over, { channel: 'jobs.a' })).toBeUndefined()
    expect(valueOf(exposition, over, { channel: 'jobs.b' })).toBe(0)
  })

  it('registers no threshold metrics without a monitor, and refuses a backlog that is not one', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    cleanup.push(async () => {
      metrics.close()
    })
    expect(await metrics.registry.metrics()).not.toContain('backlog_threshold')
    expect(() => createMetrics({ backlog: { alerts: [] } as unknown as BacklogMonitor })).toThrow(/`backlog`/)
  })
})

describe('switchyardMetrics on Redis', () => {
  it('requires the bearer token, and reports task retries, dead letters and durations', async () => {
    const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: `m${randomBytes(6).toString('hex')}` })
    cleanup.push(async () => {
      await layer.flush()
      await layer.close()
    })
    class Jobs extends RetryingConsumer {
      static override retry = { maxRetries: 2, initialDelayMs: 20, factor: 1, maxDelayMs: 20, jitter: 'none' as const }
      async job_flaky(_message: { type: 'job.flaky' }, ctx: TaskContext): Promise<void> {
        if (ctx.attempt === 1) throw new Error('first attempt fails')
      }
      async job_broken(): Promise<void> {
        throw new NonRetryableError('never works')
      }
    }
    const application = ProtocolTypeRouter({
      websocket: Room.asApp(),
      channel: ChannelNameRouter({ jobs: Jobs.asApp() }),
    })
    const { url } = await startApp(application, layer, { layer, token: METRICS_TOKEN, defaultMetrics: false })
    const worker: WorkerHandle = runWorker({ application, layer, channels: ['jobs'] })
    cleanup.push(() => worker.stop())

    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    const wrong = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/)
    const auth = { authorization: `Bearer ${METRICS_TOKEN}` }

    await layer.send('jobs', { type: 'job.flaky', idempotencyKey: 'flaky-1' })
    await layer.send('jobs', { type: 'job.broken', idempotencyKey: 'broken-1' })
    const alice = await openClient(url)
    socketOf(alice).send(JSON.stringify({ text: 'over redis' }))
    await waitFor('the group message', () => alice.length === 1)
    await waitFor(
      'the flaky task to succeed',
      async () => (await layer.tasks.getTaskState('flaky-1'))?.status === 'succeeded',
    )
    await waitFor('the dead letter', async () => (await layer.tasks.listDeadLetters('jobs')).length === 1)

    const exposition = await scrape(url, auth)
    expect(valueOf(exposition, 'switchyard_task_retries_total', { channel: 'jobs' })).toBe(1)
    expect(valueOf(exposition, 'switchyard_task_dead_letters_total', { channel: 'jobs' })).toBe(1)
    expect(exposition.types.get('switchyard_task_duration_seconds')).toBe('histogram')
    for (const outcome of ['succeeded', 'retried', 'dead']) {
      expect(valueOf(exposition, 'switchyard_task_duration_seconds_count', { channel: 'jobs', outcome })).toBe(1)
    }
    expect(valueOf(exposition, 'switchyard_connections')).toBe(1)
    expect(valueOf(exposition, 'switchyard_group_sends_total')).toBe(1)
    expect(valueOf(exposition, 'switchyard_group_send_fanout_sum')).toBe(1)
    expect(exposition.types.get('switchyard_redis_errors_total')).toBe('counter')
    expect(valueOf(exposition, 'switchyard_redis_errors_total')).toBe(0)
    expect(valueOf(exposition, 'switchyard_redis_reconnects_total')).toBe(0)
    expect(valueOf(exposition, 'switchyard_redis_replica_wait_shortfalls_total')).toBe(0)
    expect(valueOf(exposition, 'switchyard_dropped_messages_total', { reason: 'decode_failed' })).toBe(0)
    expect(valueOf(exposition, 'nodejs_eventloop_lag_seconds')).toBeUndefined()
  })
})
