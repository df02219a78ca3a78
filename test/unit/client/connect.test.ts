import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'

import {
  type CloseInfo,
  type Connection,
  type ConnectionState,
  ConnectionClosedError,
  type ConnectOptions,
  connect,
} from '../../../src/client/index.js'
import { captureError, sleep, waitFor } from '../../support/wait.js'
import { ManualClock } from './manual-clock.js'
import { TestServer } from './test-server.js'

type ServerEvent = { type: 'chat.message'; name: string; text: string } | { type: 'presence.update'; online: string[] }
type ClientEvent = { type: 'chat.message'; text: string } | { type: 'room.join'; room: string }

const servers: TestServer[] = []
const connections: Connection<ServerEvent, ClientEvent>[] = []

async function startServer(port?: number): Promise<TestServer> {
  const server = await TestServer.start(port)
  servers.push(server)
  return server
}

function open(url: string, options: ConnectOptions = {}): Connection<ServerEvent, ClientEvent> {
  const conn = connect<ServerEvent, ClientEvent>(url, { WebSocket, ...options })
  connections.push(conn)
  return conn
}

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe('connect: messages', () => {
  it('dispatches each message to the handlers for its type, narrowed, and every message to onMessage', async () => {
    const server = await startServer()
    const conn = open(server.url())
    const chat: string[] = []
    const presence: string[][] = []
    const all: string[] = []
    conn.on('chat.message', (event) => chat.push(`${event.name}: ${event.text}`))
    const stopPresence = conn.on('presence.update', (event) => presence.push(event.online))
    conn.onMessage((event) => all.push(event.type))
    // @ts-expect-error: not a type the server sends
    conn.on('chat.typo', () => undefined)
    // @ts-expect-error: narrowed to chat.message, which has no `online`
    conn.on('chat.message', (event) => event.online)

    const socket = await server.connection(1)
    socket.send(JSON.stringify({ type: 'presence.update', online: ['ada'] }))
    socket.send(JSON.stringify({ type: 'chat.message', name: 'ada', text: 'hi' }))
    await waitFor('two messages', () => all.length === 2)
    stopPresence()
    socket.send(JSON.stringify({ type: 'presence.update', online: [] }))
    await waitFor('three messages', () => all.length === 3)

    expect(chat).toEqual(['ada: hi'])
    expect(presence).toEqual([['ada']])
    expect(all).toEqual(['presence.update', 'chat.message', 'presence.update'])
    expect(conn.stats()).toMatchObject({ received: 3, malformed: 0 })
  })

  it('counts and ignores frames that are not a JSON object with a string type, binary ones included', async () => {
    const server = await startServer()
    const conn = open(server.url())
    const seen: unknown[] = []
    conn.onMessage((event) => seen.push(event))
    const socket = await server.connection(1)
    for (const frame of ['not json', '[1,2]', 'null', '"chat.message"', '{"text":"no type"}', '{"type":7}']) {
      socket.send(frame)
    }
    socket.send(Buffer.from(JSON.stringify({ type: 'chat.message', name: 'b', text: 'binary' })), { binary: true })
    socket.send(JSON.stringify({ type: 'chat.message', name: 'ada', text: 'ok' }))
    await waitFor('the valid message', () => seen.length === 1)

    expect(seen).toEqual([{ type: 'chat.message', name: 'ada', text: 'ok' }])
    expect(conn.stats()).toMatchObject({ received: 1, malformed: 7 })
    expect(conn.state).toBe('open')
  })

  it('catches throwing and rejecting handlers, reports each once, and keeps dispatching', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const server = await startServer()
    const conn = open(server.url())
    const after: string[] = []
    conn.on('chat.message', () => {
      throw new Error('sync boom')
    })
    conn.on('chat.message', async () => {
      await Promise.resolve()
      throw new Error('async boom')
    })
    conn.on('chat.message', (event) => after.push(event.text))
    const socket = await server.connection(1)
    socket.send(JSON.stringify({ type: 'chat.message', name: 'a', text: 'one' }))
    socket.send(JSON.stringify({ type: 'chat.message', name: 'a', text: 'two' }))
    await waitFor('both messages', () => after.length === 2)
    await sleep(20)

    expect(after).toEqual(['one', 'two'])
    expect(errors.mock.calls.map((call) => (call[1] as Error).message).sort()).toEqual(['async boom', 'sync boom'])
    expect(conn.state).toBe('open')
  })

  it('sends JSON text and refuses what JSON cannot encode', async () => {
    const server = await startServer()
    const conn = open(server.url())
    await waitFor('open', () => conn.state === 'open')
    conn.send({ type: 'room.join', room: 'lobby' })
    expect(await server.receivedCount(1)).toEqual(['{"type":"room.join","room":"lobby"}'])
    // What untyped JavaScript callers can pass.
    const sendUntyped = (message: unknown) => {
      conn.send(message as ClientEvent)
    }
    expect(() => {
      sendUntyped(undefined)
    }).toThrow(/Expected a JSON value, got undefined/)
    expect(() => {
      sendUntyped({ type: 'x.y', n: 1n })
    }).toThrow(/BigInt/)
    expect(conn.stats()).toMatchObject({ sent: 1, dropped: 0 })
  })

  it('offers the given subprotocols', async () => {
    const server = await startServer()
    const conn = open(server.url(), { protocols: ['switchyard.v1', 'chat'] })
    await waitFor('open', () => conn.state === 'open')
    expect(server.protocols).toEqual(['switchyard.v1'])
  })

  it('resolves a relative URL against the page location, mapping http to ws', async () => {
    const server = await startServer()
    vi.stubGlobal('location', { href: `http://127.0.0.1:${server.port}/rooms/lobby?x=1` })
    const conn = open('/ws/chat/lobby/')
    expect(conn.url).toBe(`ws://127.0.0.1:${server.port}/ws/chat/lobby/`)
    await server.connection(1)
    await waitFor('open', () => conn.state === 'open')
  })
})

describe('connect: the outbound queue', () => {
  it('queues while connecting and flushes in order after the onOpen hooks', async () => {
    const server = await startServer()
    const conn = open(server.url())
    conn.onOpen(({ reconnected }) => {
      conn.send({ type: 'room.join', room: `lobby:${reconnected}` })
    })
    expect(conn.state).toBe('connecting')
    for (const text of ['a', 'b', 'c']) conn.send({ type: 'chat.message', text })

    const frames = await server.receivedCount(4)
    expect(frames.map((frame) => JSON.parse(frame) as ClientEvent)).toEqual([
      { type: 'room.join', room: 'lobby:false' },
      { type: 'chat.message', text: 'a' },
      { type: 'chat.message', text: 'b' },
      { type: 'chat.message', text: 'c' },
    ])
    expect(conn.stats()).toMatchObject({ sent: 4, dropped: 0 })
  })

  it('sends the value as it was at send(), not as it is at flush', async () => {
    const server = await startServer()
    const conn = open(server.url())
    const message = { type: 'chat.message' as const, text: 'before' }
    conn.send(message)
    message.text = 'after'
    expect(await server.receivedCount(1)).toEqual(['{"type":"chat.message","text":"before"}'])
  })

  it('keeps at most maxQueuedMessages, dropping and counting the oldest', async () => {
    const port = await TestServer.freePort()
    const clock = new ManualClock()
    const conn = open(`ws://127.0.0.1:${port}/ws/`, {
      maxQueuedMessages: 2,
      reconnect: { initialDelayMs: 20, factor: 1, jitter: 0 },
      clock,
    })
    for (const text of ['1', '2', '3', '4', '5']) conn.send({ type: 'chat.message', text })
    expect(conn.stats()).toMatchObject({ sent: 0, dropped: 3 })

    // The first attempt fails with nothing listening; the second, once the delay has passed, finds the server.
    await waitFor('the failed first attempt', () => clock.pending.length === 1, { intervalMs: 2 })
    const server = await startServer(port)
    clock.runNext()
    const frames = await server.receivedCount(2)
    expect(frames.map((frame) => (JSON.parse(frame) as { text: string }).text)).toEqual(['4', '5'])
    // `sent` counts what the client wrote, so no third frame can follow.
    expect(conn.stats()).toMatchObject({ sent: 2, dropped: 3, reconnects: 0 })
  })

  it('drops and counts what is still queued when closed', async () => {
    const port = await TestServer.freePort()
    const conn = open(`ws://127.0.0.1:${port}/ws/`)
    conn.send({ type: 'chat.message', text: 'never' })
    conn.send({ type: 'chat.message', text: 'sent' })
    conn.close()
    expect(conn.stats()).toMatchObject({ sent: 0, dropped: 2 })
  })
})

describe('connect: close()', () => {
  it('closes with the given code, reports it once, then refuses to send', async () => {
    const server = await startServer()
    const conn = open(server.url())
    const states: ConnectionState[] = []
    const closes: CloseInfo[] = []
    conn.onStateChange((state) => states.push(state))
    conn.onClose((info) => closes.push(info))
    await waitFor('open', () => conn.state === 'open')

    conn.close(4000, 'bye')
    conn.close()
    await waitFor('the server to see the close', () => server.closeCodes.length === 1)

    expect(server.closeCodes).toEqual([4000])
    expect(states).toEqual(['open', 'closed'])
    expect(closes).toEqual([{ code: 4000, reason: 'bye', willReconnect: false }])
    const error = captureError(() => {
      conn.send({ type: 'chat.message', text: 'late' })
    })
    expect(error).toBeInstanceOf(ConnectionClosedError)
    expect(error).toMatchObject({ code: 'SWY_CONNECTION_CLOSED' })
    expect((error as Error).message).toContain(server.url())
  })

  it('refuses close codes browsers refuse, without closing', async () => {
    const server = await startServer()
    const conn = open(server.url())
    expect(
      captureError(() => {
        conn.close(1001)
      }),
    ).toBeInstanceOf(RangeError)
    expect(
      captureError(() => {
        conn.close(5000)
      }),
    ).toBeInstanceOf(RangeError)
    expect(conn.state).toBe('connecting')
    await waitFor('open', () => conn.state === 'open')
  })

  it('ignores messages that arrive after close()', async () => {
    const server = await startServer()
    const conn = open(server.url())
    const seen: string[] = []
    conn.onMessage((event) => seen.push(event.type))
    const socket = await server.connection(1)
    await waitFor('open', () => conn.state === 'open')
    conn.close()
    socket.send(JSON.stringify({ type: 'chat.message', name: 'a', text: 'late' }))
    await waitFor('the server to see the close', () => server.closeCodes.length === 1)
    expect(seen).toEqual([])
    expect(conn.stats().received).toBe(0)
  })
})

describe('connect: options', () => {
  it('validates options, naming the field', () => {
    expect(() => connect('ws://127.0.0.1:1/', { WebSocket, reconnect: { jitter: 2 } })).toThrow(
      /`reconnect.jitter` to be a number from 0 to 1, got 2/,
    )
    expect(() => connect('ws://127.0.0.1:1/', { WebSocket, reconnect: { factor: Number.NaN } })).toThrow(
      /`reconnect.factor`/,
    )
    expect(() => connect('ws://127.0.0.1:1/', { WebSocket, maxQueuedMessages: -1 })).toThrow(/`maxQueuedMessages`/)
    // An option given as undefined keeps its default.
    const conn = open('ws://127.0.0.1:1/', { reconnect: { initialDelayMs: undefined } })
    expect(conn.state).toBe('connecting')
  })

  it('needs a WebSocket when there is no global one, and an absolute URL when there is no page', () => {
    vi.stubGlobal('WebSocket', undefined)
    expect(() => connect('ws://127.0.0.1:1/')).toThrow(/pass the `WebSocket` option/)
    expect(() => connect('/ws/chat/', { WebSocket })).toThrow(/got "\/ws\/chat\/"/)
    expect(() => connect('ftp://example.com/', { WebSocket })).toThrow(TypeError)
  })
})
