import { connect as connectTcp, type Socket } from 'node:net'

import { describe, expect, it } from 'vitest'

import type { Application, InputEvent } from '../../src/application.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { serve } from '../../src/server/serve.js'
import { closed, connect, deferred, refusal, startServer, waitFor, wsUrl } from './helpers.js'

/** A chat-room app written against the raw events: joins a group on connect, leaves it on disconnect. */
function roomApp(log: { joined: number; left: number }): Application {
  return async (scope, receive, send) => {
    const layer = scope.channelLayer
    if (scope.type !== 'websocket' || layer === undefined) throw new Error('needs a websocket scope and a layer')
    const channel = await layer.newChannel()
    await receive()
    await layer.groupAdd('room', channel)
    log.joined++
    await send({ type: 'websocket.accept' })
    for (;;) {
      const event = await receive()
      if (event.type === 'websocket.disconnect') {
        await layer.groupDiscard('room', channel)
        log.left++
        return
      }
    }
  }
}

function groupCount(layer: InMemoryChannelLayer): number {
  return (layer as unknown as { groups: Map<string, unknown> }).groups.size
}

function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length
}

describe('server lifecycle', () => {
  it('leaves no connections, timers or group memberships after 1 000 connect/disconnect cycles', async () => {
    const layer = new InMemoryChannelLayer()
    const log = { joined: 0, left: 0 }
    const server = await startServer(roomApp(log), { layer })
    const timeoutsBefore = activeTimeouts()
    for (let i = 0; i < 1000; i++) {
      const { socket } = await connect(wsUrl(server))
      const closing = closed(socket)
      socket.close(1000)
      await closing
    }
    await waitFor(() => server.app.switchyard.stats().connections === 0, 5000, 'every connection to finish')
    expect(log).toEqual({ joined: 1000, left: 1000 })
    expect(groupCount(layer)).toBe(0)
    expect(server.app.switchyard.server.heartbeat.timers).toBe(0)
    expect(server.app.websocketServer.clients.size).toBe(0)
    expect(activeTimeouts()).toBeLessThanOrEqual(timeoutsBefore)
    expect(server.app.switchyard.stats()).toMatchObject({ accepted: 1000, rejected: 0, applicationErrors: 0 })
  })

  it('sends 1001 to every client on close and runs each application to the end of its disconnect handling', async () => {
    const layer = new InMemoryChannelLayer()
    const log = { joined: 0, left: 0 }
    const server = await serve({ application: roomApp(log), layer, port: 0 })
    const clients = await Promise.all([connect(wsUrl(server)), connect(wsUrl(server)), connect(wsUrl(server))])
    expect(groupCount(layer)).toBe(1)
    const closes = clients.map(({ socket }) => closed(socket))
    await server.close()
    expect((await Promise.all(closes)).map(({ code }) => code)).toEqual([1001, 1001, 1001])
    expect(log).toEqual({ joined: 3, left: 3 })
    expect(groupCount(layer)).toBe(0)
    expect(server.app.switchyard.stats().connections).toBe(0)
    await server.close() // idempotent
  })

  it('delivers websocket.disconnect with code 1001 on shutdown and bounds the wait by applicationCloseTimeoutMs', async () => {
    const events: InputEvent[] = []
    const stubborn: Application = async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      events.push(await receive())
      await new Promise(() => undefined) // never finishes its disconnect handling
    }
    const server = await serve({ application: stubborn, port: 0, applicationCloseTimeoutMs: 150 })
    const { socket } = await connect(wsUrl(server))
    const closing = closed(socket)
    const started = Date.now()
    await Promise.all([server.close(), server.close()])
    const elapsed = Date.now() - started
    expect((await closing).code).toBe(1001)
    expect(events).toEqual([{ type: 'websocket.disconnect', code: 1001 }])
    expect(elapsed).toBeGreaterThanOrEqual(140)
    expect(elapsed).toBeLessThan(2000)
    expect(server.app.switchyard.stats().applicationsCancelled).toBe(1)
  })

  it('refuses a handshake still pending at shutdown with 503', async () => {
    const connected = deferred<undefined>()
    const server = await serve({
      application: async (_scope, receive) => {
        await receive()
        connected.resolve(undefined)
        await receive() // the disconnect
      },
      port: 0,
    })
    const refused = refusal(wsUrl(server))
    await connected.promise
    await server.close()
    expect((await refused).status).toBe(503)
  })

  it('ends in-flight HTTP streams on shutdown: the application gets http.disconnect', async () => {
    const events: InputEvent[] = []
    const streaming = deferred<undefined>()
    const server = await serve({
      application: async (_scope, receive, send) => {
        events.push(await receive())
        await send({ type: 'http.response.start', status: 200, headers: [['content-type', 'text/event-stream']] })
        await send({ type: 'http.response.body', body: new TextEncoder().encode('data: hi\n\n'), moreBody: true })
        streaming.resolve(undefined)
        events.push(await receive())
      },
      port: 0,
    })
    const response = await fetch(`${server.url}/events`)
    await streaming.promise
    const started = Date.now()
    await server.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(events.map((event) => event.type)).toEqual(['http.request', 'http.disconnect'])
    expect(server.app.switchyard.stats().httpRequests).toBe(0)
    await response.body?.cancel()
  })

  // A browser opens sockets ahead of need (Chromium's preconnect, or a reconnect racing the shutdown): Node would keep
  // the server open for such a connection until its headersTimeout (60 s). The e2e restart test waited 59.5 s once.
  it('closes at once while a client holds a connection that sent nothing, half a request or an upgrade', async () => {
    const layer = new InMemoryChannelLayer()
    const log = { joined: 0, left: 0 }
    const server = await serve({ application: roomApp(log), layer, port: 0 })
    const client = await connect(wsUrl(server))
    const raw: Socket[] = []
    for (const sent of ['', 'GET / HTTP/1.1\r\nHost: x\r\n']) {
      const socket = connectTcp(server.port, '127.0.0.1')
      socket.on('error', () => undefined)
      await new Promise((resolve) => socket.once('connect', resolve))
      if (sent !== '') socket.write(sent)
      raw.push(socket)
    }
    const ends = raw.map((socket) => new Promise((resolve) => socket.once('close', resolve)))
    const closes = closed(client.socket)
    const started = Date.now()
    await server.close()
    expect(Date.now() - started).toBeLessThan(2_000)
    expect((await closes).code).toBe(1001)
    expect(log).toEqual({ joined: 1, left: 1 })
    await Promise.all(ends)
  })
})
