import { createConnection } from 'node:net'

import { describe, expect, it } from 'vitest'

import type { Application, InputEvent, WebsocketScope } from '../../src/application.js'
import { ApplicationCancelledError, NotAcceptedError, RouteNotFoundError } from '../../src/errors.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { decodePath } from '../../src/protocol/decode-path.js'
import {
  captureLogger,
  client,
  closed,
  connect,
  deferred,
  nextMessage,
  refusal,
  startServer,
  waitFor,
  websocketApp,
  wsUrl,
  anyNumber,
  anyString,
} from './helpers.js'

describe('WebSocket handshake (Daphne semantics)', () => {
  it('accepts when the application sends websocket.accept and builds the scope', async () => {
    const seen = deferred<WebsocketScope>()
    const layer = new InMemoryChannelLayer()
    const application: Application = async (scope, receive, send) => {
      if (scope.type !== 'websocket') return
      seen.resolve(scope)
      expect(await receive()).toEqual({ type: 'websocket.connect' })
      await send({ type: 'websocket.accept', subprotocol: 'chat.v1' })
      await receive()
    }
    const server = await startServer(application, { layer })
    const { socket } = await connect(wsUrl(server, '/ws/chat/caf%C3%A9%20room/?token=a%20b&x=1'), ['chat.v1'], {
      headers: { 'X-Custom': 'Value' },
    })
    const scope = await seen.promise
    expect(scope).toMatchObject({
      type: 'websocket',
      path: '/ws/chat/café room/',
      queryString: 'token=a%20b&x=1',
      subprotocols: ['chat.v1'],
      client: ['127.0.0.1', anyNumber],
      server: ['127.0.0.1', server.port],
      connectionId: anyString,
    })
    expect(scope.channelLayer).toBe(layer)
    expect(scope.headers).toContainEqual(['x-custom', 'Value'])
    expect(scope.headers.every(([name]) => name === name.toLowerCase())).toBe(true)
    // The server's logger itself: nothing is made per connection; consumers bind `connId` when they first log.
    expect(scope.logger?.bindings()).not.toHaveProperty('connId')
    expect(server.app.switchyard.stats()).toMatchObject({ connections: 1, accepted: 1, rejected: 0 })
    socket.close()
    await waitFor(() => server.app.switchyard.stats().connections === 0)
  })

  it('refuses with HTTP 403 when the application closes before accepting, then delivers a disconnect', async () => {
    const events: InputEvent[] = []
    const finished = deferred<undefined>()
    const application: Application = async (_scope, receive, send) => {
      events.push(await receive())
      await send({ type: 'websocket.close', code: 4003 })
      events.push(await receive())
      finished.resolve(undefined)
    }
    const server = await startServer(application)
    expect(await refusal(wsUrl(server))).toEqual({ status: 403, body: 'Access denied' })
    await finished.promise
    expect(events).toEqual([{ type: 'websocket.connect' }, { type: 'websocket.disconnect', code: 1006 }])
    expect(server.app.switchyard.stats()).toMatchObject({ accepted: 0, rejected: 1 })
  })

  it('refuses with HTTP 404 when a router finds no route', async () => {
    const { logger, lines } = captureLogger()
    const server = await startServer(
      async () => {
        throw new RouteNotFoundError('No route found for path "/nope/"')
      },
      { logger },
    )
    expect(await refusal(wsUrl(server, '/nope/'))).toEqual({ status: 404, body: 'Not Found' })
    expect(lines.filter((line) => line.level === 50)).toEqual([])
  })

  it('refuses with HTTP 500 and logs the error when the application throws before accepting', async () => {
    const { logger, lines } = captureLogger()
    const server = await startServer(
      async (_scope, receive) => {
        await receive()
        throw new Error('boom in connect')
      },
      { logger },
    )
    expect((await refusal(wsUrl(server))).status).toBe(500)
    await waitFor(() => lines.some((line) => line.msg === 'application error'))
    const line = lines.find((entry) => entry.msg === 'application error')
    expect(line).toMatchObject({ level: 50, connId: anyString, err: { message: 'boom in connect' } })
    expect(server.app.switchyard.stats()).toMatchObject({ applicationErrors: 1, rejected: 1 })
  })

  it('rejects websocket.send before accept with NotAcceptedError, so the crash refuses with 500', async () => {
    const sendError = deferred<unknown>()
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      try {
        await send({ type: 'websocket.send', text: 'too early' })
      } catch (error) {
        sendError.resolve(error)
        throw error
      }
    })
    expect((await refusal(wsUrl(server))).status).toBe(500)
    expect(await sendError.promise).toBeInstanceOf(NotAcceptedError)
  })

  it('refuses with 403 when the application returns without answering', async () => {
    const server = await startServer(async (_scope, receive) => {
      await receive()
    })
    expect((await refusal(wsUrl(server))).status).toBe(403)
  })

  it('refuses a handshake the application leaves unanswered past handshakeTimeoutMs and cancels it', async () => {
    const cancelled = deferred<unknown>()
    const application: Application = async (_scope, receive) => {
      await receive() // the connect
      await receive().catch((error: unknown) => {
        cancelled.resolve(error)
      })
    }
    const server = await startServer(application, { handshakeTimeoutMs: 200 })
    const started = Date.now()
    expect((await refusal(wsUrl(server))).status).toBe(403)
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(190)
    expect(elapsed).toBeLessThan(1500)
    expect(await cancelled.promise).toBeInstanceOf(ApplicationCancelledError)
    expect(server.app.switchyard.stats()).toMatchObject({ handshakeTimeouts: 1, rejected: 1, accepted: 0 })
    await waitFor(() => server.app.switchyard.stats().connections === 0)
  })

  it('negotiates the subprotocol the application chose and sends its extra accept headers', async () => {
    const application: Application = async (scope, receive, send) => {
      if (scope.type !== 'websocket') return
      await receive()
      await send({
        type: 'websocket.accept',
        subprotocol: scope.subprotocols[1],
        headers: [
          ['x-accepted-by', 'switchyard'],
          ['set-cookie', 'a=1'],
        ],
      })
      await receive()
    }
    const server = await startServer(application)
    const { socket, headers } = await connect(wsUrl(server), ['v1.chat', 'v2.chat'])
    expect(socket.protocol).toBe('v2.chat')
    expect(headers['x-accepted-by']).toBe('switchyard')
    expect(headers['set-cookie']).toEqual(['a=1'])
  })

  it('completes the handshake without a subprotocol when none was offered or chosen', async () => {
    const server = await startServer(websocketApp())
    const { socket, headers } = await connect(wsUrl(server))
    expect(socket.protocol).toBe('')
    expect(headers['sec-websocket-protocol']).toBeUndefined()
  })

  it('refuses with 500 when the application accepts a subprotocol the client did not offer', async () => {
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept', subprotocol: 'made-up' })
    })
    expect((await refusal(wsUrl(server), ['v1'])).status).toBe(500)
  })

  it('delivers frames sent right after accept, before the upgrade has completed', async () => {
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      await send({ type: 'websocket.send', text: 'first' })
      await send({ type: 'websocket.close', code: 4001, reason: 'done' })
      await receive()
    })
    const socket = client(wsUrl(server))
    const [message, close] = await Promise.all([nextMessage(socket), closed(socket)])
    expect(message.data.toString()).toBe('first')
    expect(close).toEqual({ code: 4001, reason: 'done' })
  })

  it('delivers websocket.disconnect (1006) when the client leaves before the application answers', async () => {
    const events: InputEvent[] = []
    const connected = deferred<undefined>()
    const server = await startServer(async (_scope, receive) => {
      events.push(await receive())
      connected.resolve(undefined)
      events.push(await receive())
    })
    const socket = client(wsUrl(server))
    await connected.promise
    socket.terminate()
    await waitFor(() => server.app.switchyard.stats().connections === 0)
    expect(events).toEqual([{ type: 'websocket.connect' }, { type: 'websocket.disconnect', code: 1006 }])
    expect(server.app.switchyard.stats()).toMatchObject({ accepted: 0, rejected: 0, handshakeTimeouts: 0 })
  })

  it('keeps bytes a client pipelines before the 101 for the application', async () => {
    const received = deferred<InputEvent>()
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await new Promise((resolve) => setTimeout(resolve, 100)) // the frame arrives while the application decides
      await send({ type: 'websocket.accept' })
      received.resolve(await receive())
      await receive()
    })
    const tcp = createConnection({ host: '127.0.0.1', port: server.port })
    const mask = [1, 2, 3, 4]
    const payload = [...Buffer.from('early')].map((byte, i) => byte ^ (mask[i % 4] ?? 0))
    tcp.write(
      'GET /ws/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    await new Promise((resolve) => setTimeout(resolve, 20)) // a separate packet, read by the server while it waits
    tcp.write(Buffer.from([0x81, 0x80 | payload.length, ...mask, ...payload]))
    try {
      expect(await received.promise).toEqual({ type: 'websocket.receive', text: 'early' })
    } finally {
      tcp.destroy()
    }
  })
})

describe('decodePath', () => {
  it.each([
    ['/plain/', '/plain/'],
    ['/caf%C3%A9/', '/café/'],
    ['/a%2Fb', '/a/b'],
    ['/100%/x%zz', '/100%/x%zz'],
    ['/ok%20then/bad%E9', '/ok then/bad%E9'],
  ])('decodes %s like Python unquote', (raw, decoded) => {
    expect(decodePath(raw)).toBe(decoded)
  })
})
