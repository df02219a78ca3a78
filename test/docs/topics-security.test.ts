/**
 * docs/topics/security.md: app.ts's Origin check, signed-cookie login and layer messages that cannot impersonate
 * the client, through communicators; monitoring.ts served on 127.0.0.1 in loopback mode (a foreign Host gets 421)
 * and with a token (401 without it, any Host with it).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { request } from 'node:http'

import { afterEach, describe, expect, it } from 'vitest'

import type { Application, Headers, InMemoryChannelLayer, RunningServer } from 'switchyard-channels'
import { HttpCommunicator, WebsocketCommunicator } from 'switchyard-channels/testing'

import { docProject } from './doc-blocks.js'

const PAGE = 'docs/topics/security.md'
const SECRET = 'test-secret-of-at-least-32-characters-0123'
const TOKEN = 'monitoring-token-0123456789'

/** A GET with the `Host` a browser would send for `host` (fetch cannot set Host), and an optional bearer token. */
function get(url: string, host: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      host,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    }
    request(url, { headers }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
      .on('error', reject)
      .end()
  })
}

const header = (headers: Headers, name: string): string | undefined =>
  headers.find(([key]) => key.toLowerCase() === name)?.[1]

describe(PAGE, () => {
  const saved = {
    COOKIE_SECRET: process.env.COOKIE_SECRET,
    PORT: process.env.PORT,
    TOKEN: process.env.MONITORING_TOKEN,
  }
  const servers: RunningServer[] = []

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close()
    for (const [name, value] of [
      ['COOKIE_SECRET', saved.COOKIE_SECRET],
      ['PORT', saved.PORT],
      ['MONITORING_TOKEN', saved.TOKEN],
    ] as const) {
      if (value === undefined) Reflect.deleteProperty(process.env, name)
      else process.env[name] = value
    }
  })

  it('app.ts: same-origin sockets only, a signed cookie names the user, layer messages cannot pose as the client', async () => {
    process.env.COOKIE_SECRET = SECRET
    const project = await docProject('docs/topics/security.md', ['app.ts'])
    const { application, layer } = await project.import<{ application: Application; layer: InMemoryChannelLayer }>(
      'app.ts',
    )

    const login = await new HttpCommunicator(application, 'POST', '/login/').getResponse()
    expect(login.status).toBe(204)
    const setCookie = header(login.headers, 'set-cookie') ?? ''
    expect(setCookie).toMatch(/^uid=42\.[\w%-]+; Max-Age=1209600; Path=\/; HttpOnly; SameSite=Lax$/)
    const cookie = setCookie.split(';')[0]!

    const connect = async (headers: Record<string, string>): Promise<WebsocketCommunicator> => {
      const socket = new WebsocketCommunicator(application, '/ws/inbox/', { layer, headers })
      await socket.connect()
      return socket
    }
    const sameSite = { host: 'example.com', origin: 'https://example.com' }
    const refusedHeaders: Record<string, string>[] = [
      { host: 'example.com', cookie }, // no Origin
      { host: 'example.com', origin: 'https://evil.example', cookie }, // another site's page
      sameSite, // not signed in
      { ...sameSite, cookie: cookie.replace('uid=42.', 'uid=43.') }, // a forged cookie
    ]
    for (const refused of refusedHeaders) {
      const socket = new WebsocketCommunicator(application, '/ws/inbox/', { layer, headers: refused })
      expect(await socket.connect()).toMatchObject({ connected: false })
      await socket.disconnect()
    }

    const inbox = await connect({ ...sameSite, cookie })
    expect(await inbox.receiveJsonFrom()).toEqual({ type: 'hello', name: 'ada' })

    const refusals: unknown[] = []
    const onRefused = (event: unknown): void => {
      refusals.push(event)
    }
    subscribe('switchyard:layer-message-refused', onRefused)
    try {
      await layer.groupSend('user.42', { type: 'websocket.receive', text: '{"text":"forged"}' })
      await layer.groupSend('user.42', { type: 'websocket.disconnect', code: 1000 })
      await layer.groupSend('user.42', { type: 'no.handler' })
      await layer.groupSend('user.42', { type: 'inbox.notice', text: 'your export is ready' })
      expect(await inbox.receiveJsonFrom()).toEqual({ type: 'inbox.notice', text: 'your export is ready' })
    } finally {
      unsubscribe('switchyard:layer-message-refused', onRefused)
    }
    expect(refusals).toEqual([
      { consumer: 'Inbox', reason: 'client event type' },
      { consumer: 'Inbox', reason: 'client event type' },
      { consumer: 'Inbox', reason: 'no handler' },
    ])
    expect(await inbox.receiveNothing()).toBe(true)
    await inbox.disconnect()
  })

  it('monitoring.ts: loopback names only without a token; a bearer token under any Host with one', async () => {
    process.env.COOKIE_SECRET = SECRET
    process.env.PORT = '0'
    Reflect.deleteProperty(process.env, 'MONITORING_TOKEN')
    const open = await docProject('docs/topics/security.md', ['app.ts', 'monitoring.ts'])
    const loopback = (await open.import<{ server: RunningServer }>('monitoring.ts')).server
    servers.push(loopback)
    const host = `127.0.0.1:${loopback.port}`
    expect(await get(`${loopback.url}/metrics`, host)).toBe(200)
    expect(await get(`${loopback.url}/switchyard/`, host)).toBe(200)
    expect(await get(`${loopback.url}/switchyard/`, `localhost:${loopback.port}`)).toBe(200)
    expect(await get(`${loopback.url}/metrics`, `evil.example:${loopback.port}`)).toBe(421)
    expect(await get(`${loopback.url}/switchyard/`, `evil.example:${loopback.port}`)).toBe(421)

    process.env.MONITORING_TOKEN = TOKEN
    const guarded = await docProject('docs/topics/security.md', ['app.ts', 'monitoring.ts'])
    const withToken = (await guarded.import<{ server: RunningServer }>('monitoring.ts')).server
    servers.push(withToken)
    const publicName = 'status.example.com'
    expect(await get(`${withToken.url}/metrics`, `127.0.0.1:${withToken.port}`)).toBe(401)
    expect(await get(`${withToken.url}/metrics`, publicName, TOKEN)).toBe(200)
    expect(await get(`${withToken.url}/switchyard/api/state`, publicName)).toBe(401)
    expect(await get(`${withToken.url}/switchyard/api/state`, publicName, 'wrong-token-0123456789')).toBe(401)
    expect(await get(`${withToken.url}/switchyard/api/state`, publicName, TOKEN)).toBe(200)
  }, 30_000)
})
