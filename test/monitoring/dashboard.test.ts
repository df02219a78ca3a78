// The dashboard plugin over real HTTP: who gets in (token, cookie, hook, loopback-only default), CSRF refusals,
// and replay and purge acting on real dead letters made by a RetryingConsumer that always fails, run by runWorker.
import { randomBytes } from 'node:crypto'
import os from 'node:os'

import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'

import {
  ChannelNameRouter,
  InMemoryChannelLayer,
  InvalidOptionError,
  NonRetryableError,
  ProtocolTypeRouter,
  RetryingConsumer,
  runWorker,
  type Application,
  type WorkerHandle,
} from '../../src/index.js'
import { mountMonitoring, parseBacklogThresholds } from '../../examples/showcase/monitoring.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { BacklogMonitor } from '../../src/monitoring/backlog-monitor.js'
import type { DashboardState } from '../../src/monitoring/dashboard/dashboard-api.js'
import { SESSION_COOKIE, sessionCookieValue } from '../../src/monitoring/dashboard/dashboard-auth.js'
import { switchyardDashboard } from '../../src/monitoring/dashboard/dashboard-plugin.js'
import { serve, type RunningServer } from '../../src/server/serve.js'
import { waitFor } from '../support/wait.js'
import { requestWithHost, requestWithoutHost } from './host-request.js'

const TOKEN = 'a-dashboard-token-for-tests'
const CHANNEL = 'dashboard.fails'

class AlwaysFails extends RetryingConsumer {
  static override retry = { maxRetries: 0 }
  async job_run(): Promise<void> {
    throw new NonRetryableError('the job always fails')
  }
}

const application: Application = ProtocolTypeRouter({ channel: ChannelNameRouter({ [CHANNEL]: AlwaysFails.asApp() }) })
const idle: Application = async () => undefined
/** Accepts every WebSocket and holds it until the client leaves. */
const holds: Application = async (scope, receive, send) => {
  if (scope.type !== 'websocket') return
  await receive()
  await send({ type: 'websocket.accept' })
  while ((await receive()).type !== 'websocket.disconnect');
}
const redisUrl = inject('redisUrl')

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(
  dashboard: Partial<Parameters<typeof switchyardDashboard>[1]> = {},
): Promise<{ server: RunningServer; layer: InMemoryChannelLayer; base: string }> {
  const layer = new InMemoryChannelLayer()
  const server = await serve({
    application: idle,
    layer,
    port: 0,
    configure: (app) => app.register(switchyardDashboard, { layer, ...dashboard }),
  })
  cleanups.push(async () => {
    await server.close()
    await layer.close()
  })
  return { server, layer, base: `${server.url}/switchyard/` }
}

function startWorker(layer: InMemoryChannelLayer): WorkerHandle {
  const worker = runWorker({ application, layer, channels: [CHANNEL], shutdownTimeoutMs: 1_000 })
  cleanups.push(() => worker.stop())
  return worker
}

async function deadLetters(layer: InMemoryChannelLayer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await layer.send(CHANNEL, { type: 'job.run', n: i })
  await waitFor(`${count} dead letters`, async () => (await layer.tasks.listDeadLetters(CHANNEL)).length === count)
}

const bearer = { authorization: `Bearer ${TOKEN}` }

describe('authentication', () => {
  it('refuses the page and the API without the token, with a page and JSON', async () => {
    const { base } = await start({ token: TOKEN })
    const page = await fetch(base)
    expect(page.status).toBe(401)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).toContain('Unauthorized')
    const api = await fetch(`${base}api/state`)
    expect(api.status).toBe(401)
    expect(await api.json()).toMatchObject({ error: 'unauthorized' })
    expect(
      (await fetch(`${base}api/state`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status,
    ).toBe(401)
  })

  it('serves the page and the state with a bearer token', async () => {
    const { base } = await start({ token: TOKEN })
    const page = await fetch(base, { headers: bearer })
    expect(page.status).toBe(200)
    const html = await page.text()
    for (const id of ['channels', 'groups', 'workers', 'connections', 'dead-letters', 'chart']) {
      expect(html).toContain(`id="${id}"`)
    }
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/)
    const state = await fetch(`${base}api/state`, { headers: bearer })
    expect(state.status).toBe(200)
    const body = (await state.json()) as { snapshot: unknown; connections: { stats: { connections: number } } }
    expect(body.snapshot).toMatchObject({ channels: [], workers: [] })
    expect(body.connections.stats.connections).toBe(0)
  })

  it('trades ?token= for an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const { base } = await start({ token: TOKEN })
    const response = await fetch(`${base}?token=${TOKEN}&refreshMs=500`, { redirect: 'manual' })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/switchyard/?refreshMs=500')
    const cookie = response.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    expect(cookie).toMatch(/Path=\/switchyard\//)
    expect(cookie).not.toContain(TOKEN)
    const session = cookie.split(';', 1)[0] ?? ''
    expect((await fetch(`${base}api/state`, { headers: { cookie: session } })).status).toBe(200)
    expect((await fetch(`${base}api/state`, { headers: { cookie: 'switchyard_dashboard=forged' } })).status).toBe(401)
  })

  it('asks the authorize hook when given, whatever the token', async () => {
    const { base } = await start({ token: TOKEN, authorize: (request) => request.headers['x-user'] === 'admin' })
    expect((await fetch(`${base}api/state`, { headers: bearer })).status).toBe(401)
    expect((await fetch(`${base}api/state`, { headers: { 'x-user': 'admin' } })).status).toBe(200)
  })

  it('with neither token nor hook, answers loopback clients and refuses others', async () => {
    const { base } = await start()
    expect((await fetch(`${base}api/state`)).status).toBe(200)

    // A remote client, as fastify sees it: inject() lets the test set the socket's address.
    const app: FastifyInstance = Fastify()
    const layer = new InMemoryChannelLayer()
    cleanups.push(async () => {
      await app.close()
      await layer.close()
    })
    await app.register(switchyardDashboard, { layer })
    const remote = await app.inject({ url: '/switchyard/api/state', remoteAddress: '203.0.113.7' })
    expect(remote.statusCode).toBe(401)
    const local = await app.inject({ url: '/switchyard/api/state', remoteAddress: '::ffff:127.0.0.1' })
    expect(local.statusCode).toBe(200)
  })

  it('gives the session cookie a Max-Age of sessionTtlMs, and refuses it once it is older', async () => {
    const { base } = await start({ token: TOKEN })
    const response = await fetch(`${base}?token=${TOKEN}`, { redirect: 'manual' })
    expect(response.headers.get('set-cookie')).toMatch(/; Max-Age=43200(;|$)/)
    const hour = 3_600_000
    const issued = (ageMs: number): Record<string, string> => ({
      cookie: `${SESSION_COOKIE}=${sessionCookieValue(TOKEN, Date.now() - ageMs)}`,
    })
    expect((await fetch(`${base}api/state`, { headers: issued(11 * hour) })).status).toBe(200)
    const expired = await fetch(`${base}api/state`, { headers: issued(13 * hour) })
    expect(expired.status).toBe(401)
    expect(await expired.json()).toMatchObject({ message: expect.stringMatching(/session expired/) as string })
    // Issued in the future beyond any clock skew: as good as forged.
    expect((await fetch(`${base}api/state`, { headers: issued(-hour) })).status).toBe(401)
    // A valid MAC for another issue time does not carry over.
    const [issuedAt, mac] = sessionCookieValue(TOKEN, Date.now() - 13 * hour).split('.')
    const tampered = `${SESSION_COOKIE}=${String(Number(issuedAt) + 2 * hour)}.${mac ?? ''}`
    expect((await fetch(`${base}api/state`, { headers: { cookie: tampered } })).status).toBe(401)
    // The token itself still works after the session is gone.
    expect((await fetch(`${base}api/state`, { headers: { ...issued(13 * hour), ...bearer } })).status).toBe(200)

    const short = await start({ token: TOKEN, sessionTtlMs: 60_000 })
    const shortCookie = await fetch(`${short.base}?token=${TOKEN}`, { redirect: 'manual' })
    expect(shortCookie.headers.get('set-cookie')).toMatch(/; Max-Age=60(;|$)/)
    expect((await fetch(`${short.base}api/state`, { headers: issued(30_000) })).status).toBe(200)
    expect((await fetch(`${short.base}api/state`, { headers: issued(61_000) })).status).toBe(401)
  })

  it("makes the session cookie Secure when the request is https, as fastify's trustProxy sees it", async () => {
    const cookieOf = async (app: FastifyInstance, headers: Record<string, string>): Promise<string> => {
      const response = await app.inject({ url: `/switchyard/?token=${TOKEN}`, headers })
      expect(response.statusCode).toBe(303)
      return String(response.headers['set-cookie'])
    }
    const layer = new InMemoryChannelLayer()
    const proxied = Fastify({ trustProxy: true })
    const direct = Fastify()
    cleanups.push(async () => {
      await proxied.close()
      await direct.close()
      await layer.close()
    })
    await proxied.register(switchyardDashboard, { layer, token: TOKEN })
    await direct.register(switchyardDashboard, { layer, token: TOKEN })
    const https = { 'x-forwarded-proto': 'https' }
    expect(await cookieOf(proxied, https)).toMatch(/; Secure(;|$)/)
    expect(await cookieOf(proxied, {})).not.toMatch(/Secure/)
    // Without trustProxy the header is anyone's to send: it makes nothing Secure.
    expect(await cookieOf(direct, https)).not.toMatch(/Secure/)
  })

  it('validates its options', async () => {
    const app = Fastify()
    cleanups.push(() => app.close())
    const layer = new InMemoryChannelLayer()
    cleanups.push(() => layer.close())
    await expect(app.register(switchyardDashboard, { layer, token: 'short' }).ready()).rejects.toThrow(
      InvalidOptionError,
    )
    const other = Fastify()
    cleanups.push(() => other.close())
    await expect(other.register(switchyardDashboard, { layer, path: 'no-slash' }).ready()).rejects.toThrow(/`path`/)
    for (const sessionTtlMs of [0, 999, 1.5, '12h']) {
      const app = Fastify()
      cleanups.push(() => app.close())
      await expect(
        app.register(switchyardDashboard, { layer, token: TOKEN, sessionTtlMs: sessionTtlMs as number }).ready(),
      ).rejects.toThrow(/`sessionTtlMs`/)
    }
  })
})

describe('DNS rebinding (issue 14, item 1)', () => {
  const evil = 'evil.example:8000'

  it("in loopback mode refuses a loopback client's foreign Host: the issue's curl purges nothing", async () => {
    const { base, layer } = await start()
    startWorker(layer)
    await deadLetters(layer, 1)
    // curl -X POST -H 'Host: evil.example:8000' -H 'Origin: http://evil.example:8000' ... /purge
    const purge = await requestWithHost(`${base}api/dead-letters/${CHANNEL}/purge`, evil, {
      method: 'POST',
      headers: { origin: `http://${evil}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(purge.status).toBe(421)
    expect(JSON.parse(purge.body)).toMatchObject({
      error: 'misdirected',
      message: expect.stringMatching(/localhost/) as string,
    })
    const replay = await requestWithHost(`${base}api/dead-letters/${CHANNEL}/replay`, evil, {
      method: 'POST',
      headers: { origin: `http://${evil}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(replay.status).toBe(421)
    expect((await requestWithHost(`${base}api/dead-letters/${CHANNEL}`, evil)).status).toBe(421)
    expect((await requestWithHost(`${base}api/state`, 'localhost.evil.example')).status).toBe(421)
    const page = await requestWithHost(base, evil)
    expect(page.status).toBe(421)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain('Misdirected Request')
    expect(await requestWithoutHost(`${base}api/state`)).toBe(421)
    expect(await layer.tasks.listDeadLetters(CHANNEL)).toHaveLength(1)
  })

  it('in loopback mode admits 127.0.0.1, localhost and [::1] with any port, and lets their page purge', async () => {
    const { base, layer } = await start()
    startWorker(layer)
    await deadLetters(layer, 1)
    for (const host of ['127.0.0.1:8000', 'localhost:8000', '[::1]:8000', 'LOCALHOST', '127.0.0.2:9']) {
      const state = await requestWithHost(`${base}api/state`, host)
      expect(state.status, host).toBe(200)
      expect(JSON.parse(state.body)).toHaveProperty('deadLetterChannels', [CHANNEL])
      expect((await requestWithHost(base, host)).status, host).toBe(200)
    }
    const purge = await requestWithHost(`${base}api/dead-letters/${CHANNEL}/purge`, 'localhost:8000', {
      method: 'POST',
      headers: { origin: 'http://localhost:8000', 'content-type': 'application/json' },
      body: '{}',
    })
    expect(purge.status).toBe(200)
    expect(JSON.parse(purge.body)).toEqual({ purged: 1 })
  })

  it('in loopback mode still refuses remote clients first, whatever their Host', async () => {
    const app = Fastify()
    const layer = new InMemoryChannelLayer()
    cleanups.push(async () => {
      await app.close()
      await layer.close()
    })
    await app.register(switchyardDashboard, { layer })
    const remote = await app.inject({
      url: '/switchyard/api/state',
      remoteAddress: '203.0.113.7',
      headers: { host: 'localhost' },
    })
    expect(remote.statusCode).toBe(401)
    const rebound = await app.inject({
      url: '/switchyard/api/state',
      remoteAddress: '::1',
      headers: { host: evil },
    })
    expect(rebound.statusCode).toBe(421)
  })

  it('with a token, the token rules apply as before, whatever the Host', async () => {
    const { base, layer } = await start({ token: TOKEN })
    startWorker(layer)
    await deadLetters(layer, 1)
    const json = { 'content-type': 'application/json' }
    // Without the token a rebound page gets the usual 401, never the data.
    const purge = await requestWithHost(`${base}api/dead-letters/${CHANNEL}/purge`, evil, {
      method: 'POST',
      headers: { ...json, origin: `http://${evil}` },
      body: '{}',
    })
    expect(purge.status).toBe(401)
    expect((await requestWithHost(`${base}api/state`, evil)).status).toBe(401)
    // With it, any Host name the operator serves the dashboard under works (a proxy's public name, say).
    expect((await requestWithHost(`${base}api/state`, 'dashboard.example.com', { headers: bearer })).status).toBe(200)
    const scripted = await requestWithHost(`${base}api/dead-letters/${CHANNEL}/purge`, 'dashboard.example.com', {
      method: 'POST',
      headers: { ...json, ...bearer },
      body: '{}',
    })
    expect(JSON.parse(scripted.body)).toEqual({ purged: 1 })
  })
})

describe('dead letters', () => {
  it('lists, inspects, replays (some, then all) and purges real dead letters', async () => {
    const { base, layer } = await start({ token: TOKEN })
    startWorker(layer)
    await deadLetters(layer, 3)
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${base}api/dead-letters/${CHANNEL}/${path}`, {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })

    const state = (await (await fetch(`${base}api/state`, { headers: bearer })).json()) as {
      deadLetterChannels: string[]
    }
    expect(state.deadLetterChannels).toEqual([CHANNEL])
    const listed = (await (await fetch(`${base}api/dead-letters/${CHANNEL}`, { headers: bearer })).json()) as {
      deadLetters: { id: string; message: { type: string } }[]
    }
    expect(listed.deadLetters).toHaveLength(3)
    const first = listed.deadLetters[0]!
    const one = (await (await fetch(`${base}api/dead-letters/${CHANNEL}/${first.id}`, { headers: bearer })).json()) as {
      deadLetter: { id: string; error: string }
    }
    expect(one.deadLetter).toMatchObject({ id: first.id, error: 'NonRetryableError: the job always fails' })
    expect((await fetch(`${base}api/dead-letters/${CHANNEL}/nope`, { headers: bearer })).status).toBe(404)

    // Replayed tasks run again, fail again, and come back as new dead letters.
    expect(await (await post('replay', { ids: [first.id] })).json()).toEqual({ replayed: 1 })
    await waitFor('the replayed task to die again', async () => {
      const letters = await layer.tasks.listDeadLetters(CHANNEL)
      return letters.length === 3 && !letters.some((letter) => letter.id === first.id)
    })
    expect(await (await post('replay', {})).json()).toEqual({ replayed: 3 })
    await waitFor('all three to die again', async () => (await layer.tasks.listDeadLetters(CHANNEL)).length === 3)

    expect((await post('purge', { olderThanMs: 'soon' })).status).toBe(400)
    expect((await post('replay', { ids: 'all' })).status).toBe(400)
    expect((await post('purge', [])).status).toBe(400)
    expect(await (await post('purge', { olderThanMs: 3_600_000 })).json()).toEqual({ purged: 0 })
    expect(await (await post('purge', {})).json()).toEqual({ purged: 3 })
    expect(await layer.tasks.listDeadLetters(CHANNEL)).toEqual([])
  })

  it('refuses cross-site POSTs: a non-JSON body, a foreign Origin, no Origin without a bearer token', async () => {
    const { base, layer, server } = await start()
    startWorker(layer)
    await deadLetters(layer, 1)
    const url = `${base}api/dead-letters/${CHANNEL}/purge`
    const json = { 'content-type': 'application/json' }

    const form = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: server.url },
      body: '{}',
    })
    expect(form.status).toBe(415)
    const foreign = await fetch(url, {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example' },
      body: '{}',
    })
    expect(foreign.status).toBe(403)
    expect(await foreign.json()).toMatchObject({ error: 'cross-site' })
    const noOrigin = await fetch(url, { method: 'POST', headers: json, body: '{}' })
    expect(noOrigin.status).toBe(403)
    const crossSite = await fetch(url, {
      method: 'POST',
      headers: { ...json, origin: server.url, 'sec-fetch-site': 'cross-site' },
      body: '{}',
    })
    expect(crossSite.status).toBe(403)
    expect(await layer.tasks.listDeadLetters(CHANNEL)).toHaveLength(1)

    const sameOrigin = await fetch(url, { method: 'POST', headers: { ...json, origin: server.url }, body: '{}' })
    expect(await sameOrigin.json()).toEqual({ purged: 1 })
  })
})

describe('history', () => {
  it('samples the layer into a bounded ring for the chart', async () => {
    const { base, layer } = await start({ token: TOKEN, sampleIntervalMs: 50, historyMs: 200 })
    await layer.send('dashboard.idle', { type: 'job.run' })
    await waitFor('the ring to fill', async () => {
      const state = (await (await fetch(`${base}api/state`, { headers: bearer })).json()) as {
        history: { backlog: number }[]
      }
      return state.history.length === 4 && state.history.every((point) => point.backlog === 1)
    })
  })
})

async function stateOf(base: string, headers: Record<string, string> = bearer): Promise<DashboardState> {
  const response = await fetch(`${base}api/state`, { headers })
  expect(response.status).toBe(200)
  return (await response.json()) as DashboardState
}

async function openSockets(server: RunningServer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/ws/`)
    cleanups.push(async () => {
      socket.terminate()
    })
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
  }
}

describe('connections', () => {
  it('lists every server on one Redis prefix with its connection count, and this one under its own id', async () => {
    const prefix = `d${randomBytes(6).toString('hex')}`
    const servers: RunningServer[] = []
    for (const withDashboard of [true, false]) {
      const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
      const server = await serve({
        application: holds,
        layer,
        port: 0,
        statsReportIntervalMs: 50,
        configure: (app) => (withDashboard ? app.register(switchyardDashboard, { layer, token: TOKEN }) : undefined),
      })
      cleanups.push(async () => {
        await server.close()
        await layer.flush()
        await layer.close()
      })
      servers.push(server)
    }
    const [first, second] = servers as [RunningServer, RunningServer]
    const base = `${first.url}/switchyard/`
    const idOf = (server: RunningServer): string => `${os.hostname()}:${String(process.pid)}:${String(server.port)}`
    expect(first.app.switchyard.serverId()).toBe(idOf(first))

    await openSockets(first, 2)
    await openSockets(second, 1)
    const counts = async (): Promise<Map<string, number>> =>
      new Map((await stateOf(base)).snapshot?.servers.map((server) => [server.id, server.connections]))
    await waitFor('both servers to report their connections', async () => {
      const seen = await counts()
      return seen.get(idOf(first)) === 2 && seen.get(idOf(second)) === 1
    })
    const state = await stateOf(base)
    expect(state.connections?.server).toBe(idOf(first))
    expect(state.connections?.stats.connections).toBe(2)
    expect(state.snapshot?.servers.every((server) => server.alive)).toBe(true)
    // No entry is left under the id a server had before it listened.
    expect([...(await counts()).keys()].some((id) => id.endsWith(':unlistened'))).toBe(false)

    await second.close()
    await waitFor('the closed server to leave the list', async () => !(await counts()).has(idOf(second)))
  })

  it('serves its live stats under the id it reports as (in-memory layer), and no backlog without a monitor', async () => {
    const { base, server } = await start({ token: TOKEN })
    const id = server.app.switchyard.serverId()
    expect(id).toBe(`${os.hostname()}:${String(process.pid)}:${String(server.port)}`)
    await waitFor('this server in the registry', async () => {
      const servers = (await stateOf(base)).snapshot?.servers ?? []
      return servers.length === 1 && servers[0]?.id === id
    })
    const state = await stateOf(base)
    expect(state.connections?.server).toBe(id)
    expect(state.backlog).toBeNull()
  })
})

describe('backlog alerts', () => {
  it("serves the monitor's latest alerts for the page to highlight", async () => {
    const layer = new InMemoryChannelLayer()
    const monitor = new BacklogMonitor({ layer, thresholds: { 'jobs.*': 1 } })
    const { base } = await start({ token: TOKEN, backlog: monitor })
    await layer.send('jobs.a', { type: 'job.run' })
    await layer.send('jobs.a', { type: 'job.run' })
    await layer.send('jobs.b', { type: 'job.run' })
    expect((await stateOf(base)).backlog).toEqual({ alerts: [] })
    await monitor.check()
    expect((await stateOf(base)).backlog).toEqual({
      alerts: [{ channel: 'jobs.a', backlog: 2, threshold: 1, pattern: 'jobs.*' }],
    })
    await layer.close()
  })

  it('refuses a backlog option that is not a BacklogMonitor', async () => {
    const app = Fastify()
    cleanups.push(() => app.close())
    const layer = new InMemoryChannelLayer()
    cleanups.push(() => layer.close())
    await expect(
      app.register(switchyardDashboard, { layer, backlog: { thresholds: {} } as unknown as BacklogMonitor }).ready(),
    ).rejects.toThrow(/`backlog`/)
  })

  it('the showcase monitors BACKLOG_THRESHOLDS and shows its alerts on the dashboard and in the metrics', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await serve({
      application: idle,
      layer,
      port: 0,
      configure: (app) =>
        mountMonitoring(app, { layer, env: { BACKLOG_THRESHOLDS: 'jobs=1, other.*=5' }, backlogIntervalMs: 50 }),
    })
    cleanups.push(async () => {
      await server.close()
      await layer.close()
    })
    await layer.send('jobs', { type: 'job.run' })
    await layer.send('jobs', { type: 'job.run' })
    await waitFor('the alert on the dashboard', async () => {
      const state = await stateOf(`${server.url}/switchyard/`, {})
      return state.backlog?.alerts.some((alert) => alert.channel === 'jobs') === true
    })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toContain('switchyard_channel_backlog_threshold{channel="jobs"} 1')
    expect(metrics).toContain('switchyard_channel_backlog_over_threshold{channel="jobs"} 1')
  })

  it('parses BACKLOG_THRESHOLDS, defaulting to 1000 for every channel', () => {
    expect(parseBacklogThresholds(undefined)).toEqual({ '*': 1000 })
    expect(parseBacklogThresholds('')).toEqual({ '*': 1000 })
    expect(parseBacklogThresholds('progress=100, webhooks=100')).toEqual({ progress: 100, webhooks: 100 })
    expect(() => parseBacklogThresholds('progress=lots')).toThrow(/BACKLOG_THRESHOLDS/)
  })
})
