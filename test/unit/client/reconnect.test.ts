import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import {
  type CloseInfo,
  type Connection,
  type ConnectionState,
  type ConnectOptions,
  connect,
  type OpenInfo,
  type WebSocketConstructorLike,
} from '../../../src/client/index.js'
import { sleep, waitFor } from '../../support/wait.js'
import { TestServer } from './test-server.js'

type ClientEvent = { type: 'room.join'; room: string } | { type: 'chat.message'; text: string }

const servers: TestServer[] = []
const connections: Connection[] = []

async function startServer(port?: number): Promise<TestServer> {
  const server = await TestServer.start(port)
  servers.push(server)
  return server
}

/** Records what a connection reports, with the time of each close, for timing assertions. */
function open(url: string, options: ConnectOptions) {
  const conn = connect<{ type: string }, ClientEvent>(url, { WebSocket, ...options })
  connections.push(conn)
  const log = {
    states: [] as ConnectionState[],
    opens: [] as OpenInfo[],
    closes: [] as CloseInfo[],
    closedAt: [] as number[],
  }
  conn.onStateChange((state) => log.states.push(state))
  conn.onOpen((info) => log.opens.push(info))
  conn.onClose((info) => {
    log.closes.push(info)
    log.closedAt.push(performance.now())
  })
  return { conn, log }
}

/** The `ws` constructor, noting when each socket is created (each connection attempt). */
function recordingWebSocket(createdAt: number[]): WebSocketConstructorLike {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      createdAt.push(performance.now())
    }
  }
}

const FAST = { initialDelayMs: 20, factor: 2, maxDelayMs: 1_000, jitter: 0 }

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

describe('reconnecting', () => {
  it('reconnects after the server closes with 1001, runs onOpen({ reconnected: true }) and resubscribes first', async () => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: FAST })
    conn.onOpen(() => {
      conn.send({ type: 'room.join', room: 'lobby' })
    })
    const first = await server.connection(1)
    await server.receivedCount(1)

    first.close(1001, 'server shutting down')
    await waitFor('the close', () => log.closes.length === 1)
    conn.send({ type: 'chat.message', text: 'while away' })
    await server.connection(2)
    const frames = await server.receivedCount(3)

    expect(log.closes).toEqual([{ code: 1001, reason: 'server shutting down', willReconnect: true }])
    expect(log.opens).toEqual([{ reconnected: false }, { reconnected: true }])
    expect(frames.map((frame) => JSON.parse(frame) as ClientEvent)).toEqual([
      { type: 'room.join', room: 'lobby' },
      { type: 'room.join', room: 'lobby' },
      { type: 'chat.message', text: 'while away' },
    ])
    expect(log.states).toEqual(['open', 'reconnecting', 'open'])
    expect(conn.stats()).toMatchObject({ reconnects: 1, sent: 3, dropped: 0 })
  })

  it('survives the server process going away: backs off exponentially, then reconnects to a new one', async () => {
    const server = await startServer()
    const attempts: number[] = []
    const { conn, log } = open(server.url(), {
      reconnect: { ...FAST, initialDelayMs: 40 },
      WebSocket: recordingWebSocket(attempts),
    })
    await waitFor('open', () => conn.state === 'open')

    await server.stop() // clients see 1006, then every attempt is refused
    await waitFor('three refused attempts', () => log.closes.length >= 4, { timeoutMs: 2_000 })
    conn.send({ type: 'chat.message', text: 'queued while down' })
    const restarted = await startServer(server.port)
    await restarted.connection(1)
    await waitFor('reopened', () => conn.state === 'open', { timeoutMs: 2_000 })

    // Attempts start 40, 80, 160 ms after the close before each: the waits grow by `factor`. Timers never fire
    // early (2 ms for clock rounding); the upper bound is loose for a busy machine.
    const waits = [1, 2, 3].map((i) => attempts[i]! - log.closedAt[i - 1]!)
    for (const [i, expected] of [40, 80, 160].entries()) {
      expect(waits[i]).toBeGreaterThanOrEqual(expected - 2)
      expect(waits[i]).toBeLessThan(expected + 100)
    }
    expect(log.closes.every((close) => close.code === 1006 && close.willReconnect)).toBe(true)
    expect(log.states).toEqual(['open', 'reconnecting', 'open'])
    expect(log.opens.at(-1)).toEqual({ reconnected: true })
    expect(await restarted.receivedCount(1)).toEqual(['{"type":"chat.message","text":"queued while down"}'])
    expect(conn.stats()).toMatchObject({ reconnects: 1, sent: 1, dropped: 0 })
  })

  it('starts from `connecting` and reconnects until the server first comes up', async () => {
    const port = await TestServer.freePort()
    const { conn, log } = open(`ws://127.0.0.1:${port}/ws/`, { reconnect: FAST })
    expect(conn.state).toBe('connecting')
    await waitFor('a failed attempt', () => log.closes.length >= 1)
    await startServer(port)
    await waitFor('open', () => conn.state === 'open', { timeoutMs: 2_000 })
    expect(log.states).toEqual(['reconnecting', 'open'])
    expect(log.opens).toEqual([{ reconnected: false }])
    expect(conn.stats().reconnects).toBe(0)
  })

  it('jitters each delay by up to ±jitter of it', async () => {
    const port = await TestServer.freePort()
    const attempts: number[] = []
    // random() = 1 is the top of the window: 50 * (1 + 0.8) = 90 ms instead of 50.
    const { log } = open(`ws://127.0.0.1:${port}/ws/`, {
      reconnect: { initialDelayMs: 50, factor: 1, jitter: 0.8 },
      random: () => 1,
      WebSocket: recordingWebSocket(attempts),
    })
    await waitFor('a retry', () => attempts.length >= 2)
    const wait = attempts[1]! - log.closedAt[0]!
    expect(wait).toBeGreaterThanOrEqual(88)
    expect(wait).toBeLessThan(190)
  })

  it('starts again from initialDelayMs after a connection that stayed open stableAfterMs', async () => {
    const server = await startServer()
    const delays: number[] = []
    const { conn, log } = open(server.url(), {
      reconnect: { initialDelayMs: 30, factor: 4, jitter: 0, stableAfterMs: 150 },
      clock: {
        now: () => performance.now(),
        setTimeout: (callback, ms) => {
          delays.push(ms)
          return setTimeout(callback, ms)
        },
        clearTimeout: (handle) => {
          clearTimeout(handle as NodeJS.Timeout)
        },
      },
    })
    // Two quick drops grow the delay; then a stable connection resets it.
    ;(await server.connection(1)).close(1012)
    ;(await server.connection(2)).close(1012)
    await server.connection(3)
    await waitFor('open', () => conn.state === 'open')
    await sleep(200)
    server.sockets[2]!.close(1012)
    await server.connection(4)
    expect(delays).toEqual([30, 120, 30])
    expect(log.closes.map((close) => close.willReconnect)).toEqual([true, true, true])
  })

  it('gives up after maxAttempts consecutive failures', async () => {
    const port = await TestServer.freePort()
    const { conn, log } = open(`ws://127.0.0.1:${port}/ws/`, { reconnect: { ...FAST, maxAttempts: 2 } })
    await waitFor('closed', () => conn.state === 'closed')
    expect(log.closes.map((close) => close.willReconnect)).toEqual([true, true, false])
    expect(log.states).toEqual(['reconnecting', 'closed'])
    expect(() => {
      conn.send({ type: 'chat.message', text: 'x' })
    }).toThrow(/closed/)
  })

  it('never reconnects with reconnect: false', async () => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: false })
    ;(await server.connection(1)).close(1001)
    await waitFor('closed', () => conn.state === 'closed')
    await sleep(100)
    expect(server.connections).toBe(1)
    expect(log.closes).toEqual([{ code: 1001, reason: '', willReconnect: false }])
  })
})

describe('close codes', () => {
  it.each([1000, 1003, 1007, 1008, 1009, 3003, 4000, 4001, 4499])('does not reconnect after %i', async (code) => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: FAST })
    ;(await server.connection(1)).close(code, 'fatal')
    await waitFor('closed', () => conn.state === 'closed')
    await sleep(80)
    expect(server.connections).toBe(1)
    expect(log.closes).toEqual([{ code, reason: 'fatal', willReconnect: false }])
    expect(log.states).toEqual(['open', 'closed'])
  })

  it.each([1001, 1011, 1012, 1013, 1014, 3008, 4500, 4999])('reconnects after %i', async (code) => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: FAST })
    ;(await server.connection(1)).close(code)
    await server.connection(2)
    await waitFor('reopened', () => conn.state === 'open' && log.opens.length === 2)
    expect(log.closes).toEqual([{ code, reason: '', willReconnect: true }])
  })

  it('reconnects after a close frame without a code (1005)', async () => {
    const server = await startServer()
    const { log } = open(server.url(), { reconnect: FAST })
    ;(await server.connection(1)).close()
    await server.connection(2)
    expect(log.closes[0]).toMatchObject({ code: 1005, willReconnect: true })
  })
})

describe('close() and timers', () => {
  it('close() while waiting to reconnect cancels the attempt', async () => {
    const server = await startServer()
    const pending = new Set<NodeJS.Timeout>()
    const { conn, log } = open(server.url(), {
      reconnect: { ...FAST, initialDelayMs: 60 },
      clock: {
        now: () => performance.now(),
        setTimeout: (callback, ms) => {
          const handle = setTimeout(() => {
            pending.delete(handle)
            callback()
          }, ms)
          pending.add(handle)
          return handle
        },
        clearTimeout: (handle) => {
          clearTimeout(handle as NodeJS.Timeout)
          pending.delete(handle as NodeJS.Timeout)
        },
      },
    })
    ;(await server.connection(1)).close(1001)
    await waitFor('reconnecting', () => conn.state === 'reconnecting')
    expect(pending.size).toBe(1)
    conn.close()
    expect(pending.size).toBe(0)
    await sleep(150)
    expect(server.connections).toBe(1)
    expect(log.states).toEqual(['open', 'reconnecting', 'closed'])
    // The socket was already gone: close() has nothing to report beyond the state.
    expect(log.closes.map((close) => close.willReconnect)).toEqual([true])
  })

  it('close() from an onClose handler stops the reconnect it announced', async () => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: FAST })
    conn.onClose(() => {
      conn.close()
    })
    ;(await server.connection(1)).close(1001)
    await waitFor('closed', () => conn.state === 'closed')
    await sleep(80)
    expect(server.connections).toBe(1)
    expect(log.states).toEqual(['open', 'reconnecting', 'closed'])
  })

  it('close() from an onStateChange handler is reflected in willReconnect', async () => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: FAST })
    conn.onStateChange((state) => {
      if (state === 'reconnecting') conn.close()
    })
    ;(await server.connection(1)).close(1001)
    await waitFor('closed', () => conn.state === 'closed')
    await sleep(80)
    expect(server.connections).toBe(1)
    expect(log.closes).toEqual([{ code: 1001, reason: '', willReconnect: false }])
  })

  it('close() while connecting abandons the handshake and never reconnects', async () => {
    const server = await startServer()
    const { conn, log } = open(server.url(), { reconnect: FAST })
    conn.close()
    await sleep(100)
    expect(conn.state).toBe('closed')
    expect(log.opens).toEqual([])
    expect(log.closes).toEqual([{ code: 1000, reason: '', willReconnect: false }])
    expect(server.sockets.filter((socket) => socket.readyState === socket.OPEN)).toEqual([])
  })
})
