/**
 * Reconnecting, against a real `ws` server. The client's reconnect timers run on a `ManualClock`: a test sees each
 * delay the client asks for and moves time past it by hand, so no test sleeps for a delay and every wait is exact.
 * Only socket I/O takes real time (`until` polls for it).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'

import {
  type CloseInfo,
  type Connection,
  type ConnectionState,
  type ConnectOptions,
  connect,
  type OpenInfo,
} from '../../../src/client/index.js'
import { waitFor } from '../../support/wait.js'
import { ManualClock } from './manual-clock.js'
import { recordingWebSocket } from './recording-websocket.js'
import { TestServer } from './test-server.js'

type ClientEvent = { type: 'room.join'; room: string } | { type: 'chat.message'; text: string }

const servers: TestServer[] = []
const connections: Connection[] = []

/** Longer than any delay here: time moved this far fires every timer the client still holds. */
const AN_HOUR = 3_600_000

async function startServer(port?: number): Promise<TestServer> {
  const server = await TestServer.start(port)
  servers.push(server)
  return server
}

/** Waits for socket I/O, polling often: nothing here waits for a timer. */
const until = (what: string, check: () => boolean): Promise<number> => waitFor(what, check, { intervalMs: 2 })

/**
 * Connects on a `ManualClock` and records what the connection reports: states, opens, closes with the clock's time
 * of each, and each socket the client creates (one per attempt) with the clock's time of its creation.
 */
function open(url: string, options: ConnectOptions) {
  const clock = new ManualClock()
  const sockets: WebSocket[] = []
  const log = {
    states: [] as ConnectionState[],
    opens: [] as OpenInfo[],
    closes: [] as CloseInfo[],
    closedAt: [] as number[],
    attemptedAt: [] as number[],
  }
  const conn = connect<{ type: string }, ClientEvent>(url, {
    WebSocket: recordingWebSocket((socket) => {
      sockets.push(socket)
      log.attemptedAt.push(clock.now())
    }),
    clock,
    ...options,
  })
  connections.push(conn)
  conn.onStateChange((state) => log.states.push(state))
  conn.onOpen((info) => log.opens.push(info))
  conn.onClose((info) => {
    log.closes.push(info)
    log.closedAt.push(clock.now())
  })
  return { conn, log, clock, sockets }
}

const FAST = { initialDelayMs: 20, factor: 2, maxDelayMs: 1_000, jitter: 0 }

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

describe('reconnecting', () => {
  it('reconnects after the server closes with 1001, runs onOpen({ reconnected: true }) and resubscribes first', async () => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: FAST })
    conn.onOpen(() => {
      conn.send({ type: 'room.join', room: 'lobby' })
    })
    const first = await server.connection(1)
    await server.receivedCount(1)

    first.close(1001, 'server shutting down')
    await until('the close', () => log.closes.length === 1)
    conn.send({ type: 'chat.message', text: 'while away' })
    // No attempt before the delay has passed, one as soon as it has.
    expect(clock.pending).toEqual([20])
    clock.advance(19)
    expect(log.attemptedAt).toHaveLength(1)
    clock.advance(1)
    expect(log.attemptedAt).toEqual([0, 20])
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
    const { conn, log, clock } = open(server.url(), { reconnect: { ...FAST, initialDelayMs: 40 } })
    await until('open', () => conn.state === 'open')

    await server.stop() // clients see 1006, then every attempt is refused
    for (const [i, delay] of [40, 80, 160].entries()) {
      await until(`close ${i + 1}`, () => log.closes.length === i + 1)
      expect(clock.pending).toEqual([delay])
      clock.advance(delay)
    }
    await until('the third refused attempt', () => log.closes.length === 4)
    conn.send({ type: 'chat.message', text: 'queued while down' })
    const restarted = await startServer(server.port)
    expect(clock.runNext()).toBe(320)
    await restarted.connection(1)
    await until('reopened', () => conn.state === 'open')

    // Each attempt starts exactly its delay after the close before it, and the delays grow by `factor`.
    expect(log.attemptedAt.slice(1).map((at, i) => at - log.closedAt[i]!)).toEqual([40, 80, 160, 320])
    expect(clock.delays).toEqual([40, 80, 160, 320])
    expect(log.closes.every((close) => close.code === 1006 && close.willReconnect)).toBe(true)
    expect(log.states).toEqual(['open', 'reconnecting', 'open'])
    expect(log.opens.at(-1)).toEqual({ reconnected: true })
    expect(await restarted.receivedCount(1)).toEqual(['{"type":"chat.message","text":"queued while down"}'])
    expect(conn.stats()).toMatchObject({ reconnects: 1, sent: 1, dropped: 0 })
  })

  it('starts from `connecting` and reconnects until the server first comes up', async () => {
    const port = await TestServer.freePort()
    const { conn, log, clock } = open(`ws://127.0.0.1:${port}/ws/`, { reconnect: FAST })
    expect(conn.state).toBe('connecting')
    await until('a failed attempt', () => log.closes.length === 1)
    await startServer(port)
    expect(clock.runNext()).toBe(20)
    await until('open', () => conn.state === 'open')
    expect(log.states).toEqual(['reconnecting', 'open'])
    expect(log.opens).toEqual([{ reconnected: false }])
    expect(conn.stats().reconnects).toBe(0)
  })

  it('jitters each delay by up to ±jitter of it', async () => {
    const port = await TestServer.freePort()
    // random() = 1 is the top of the window: 50 * (1 + 0.8) = 90 ms instead of 50; random() = 0 the bottom, 10 ms.
    const draws = [1, 0]
    const { log, clock } = open(`ws://127.0.0.1:${port}/ws/`, {
      reconnect: { initialDelayMs: 50, factor: 1, jitter: 0.8 },
      random: () => draws.shift() ?? 0.5,
    })
    await until('a failed attempt', () => log.closes.length === 1)
    expect(clock.pending).toEqual([90])
    clock.advance(89)
    expect(log.attemptedAt).toHaveLength(1)
    clock.advance(1)
    expect(log.attemptedAt).toHaveLength(2)
    await until('a second failed attempt', () => log.closes.length === 2)
    expect(clock.pending).toEqual([10])
    expect(log.attemptedAt[1]! - log.closedAt[0]!).toBe(90)
  })

  it('starts again from initialDelayMs after a connection that stayed open stableAfterMs, not before', async () => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), {
      reconnect: { initialDelayMs: 30, factor: 4, jitter: 0, stableAfterMs: 150 },
    })
    const openFor = async (n: number, ms: number): Promise<void> => {
      const socket = await server.connection(n)
      await until(`open ${n}`, () => log.opens.length === n)
      clock.advance(ms)
      socket.close(1012)
      await until(`close ${n}`, () => log.closes.length === n)
    }
    // Two quick drops grow the delay, and so does one a millisecond short of stable; a stable connection resets it.
    await openFor(1, 0)
    clock.runNext()
    await openFor(2, 0)
    clock.runNext()
    await openFor(3, 149)
    clock.runNext()
    await openFor(4, 150)
    expect(clock.delays).toEqual([30, 120, 480, 30])
    expect(log.closes.map((close) => close.willReconnect)).toEqual([true, true, true, true])
    expect(conn.state).toBe('reconnecting')
  })

  it('gives up after maxAttempts consecutive failures', async () => {
    const port = await TestServer.freePort()
    const { conn, log, clock } = open(`ws://127.0.0.1:${port}/ws/`, { reconnect: { ...FAST, maxAttempts: 2 } })
    for (const n of [1, 2]) {
      await until(`failure ${n}`, () => log.closes.length === n)
      clock.runNext()
    }
    await until('closed', () => conn.state === 'closed')
    expect(log.closes.map((close) => close.willReconnect)).toEqual([true, true, false])
    expect(log.states).toEqual(['reconnecting', 'closed'])
    expect(clock.delays).toEqual([20, 40])
    expect(clock.pending).toEqual([])
    expect(() => {
      conn.send({ type: 'chat.message', text: 'x' })
    }).toThrow(/closed/)
  })

  it('never reconnects with reconnect: false', async () => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: false })
    ;(await server.connection(1)).close(1001)
    await until('closed', () => conn.state === 'closed')
    clock.advance(AN_HOUR)
    expect(clock.delays).toEqual([])
    expect(log.attemptedAt).toHaveLength(1)
    expect(server.connections).toBe(1)
    expect(log.closes).toEqual([{ code: 1001, reason: '', willReconnect: false }])
  })
})

describe('close codes', () => {
  it.each([1000, 1003, 1007, 1008, 1009, 3003, 4000, 4001, 4499])('does not reconnect after %i', async (code) => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: FAST })
    ;(await server.connection(1)).close(code, 'fatal')
    await until('closed', () => conn.state === 'closed')
    clock.advance(AN_HOUR)
    expect(clock.delays).toEqual([])
    expect(log.attemptedAt).toHaveLength(1)
    expect(server.connections).toBe(1)
    expect(log.closes).toEqual([{ code, reason: 'fatal', willReconnect: false }])
    expect(log.states).toEqual(['open', 'closed'])
  })

  it.each([1001, 1011, 1012, 1013, 1014, 3008, 4500, 4999])('reconnects after %i', async (code) => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: FAST })
    ;(await server.connection(1)).close(code)
    await until('the close', () => log.closes.length === 1)
    expect(clock.runNext()).toBe(20)
    await server.connection(2)
    await until('reopened', () => conn.state === 'open' && log.opens.length === 2)
    expect(log.closes).toEqual([{ code, reason: '', willReconnect: true }])
  })

  it('reconnects after a close frame without a code (1005)', async () => {
    const server = await startServer()
    const { log, clock } = open(server.url(), { reconnect: FAST })
    ;(await server.connection(1)).close()
    await until('the close', () => log.closes.length === 1)
    expect(clock.runNext()).toBe(20)
    await server.connection(2)
    expect(log.closes[0]).toMatchObject({ code: 1005, willReconnect: true })
  })
})

describe('close() and timers', () => {
  it('close() while waiting to reconnect cancels the attempt', async () => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: { ...FAST, initialDelayMs: 60 } })
    ;(await server.connection(1)).close(1001)
    await until('reconnecting', () => conn.state === 'reconnecting')
    expect(clock.pending).toEqual([60])
    conn.close()
    expect(clock.pending).toEqual([])
    clock.advance(AN_HOUR)
    expect(log.attemptedAt).toHaveLength(1)
    expect(server.connections).toBe(1)
    expect(log.states).toEqual(['open', 'reconnecting', 'closed'])
    // The socket was already gone: close() has nothing to report beyond the state.
    expect(log.closes.map((close) => close.willReconnect)).toEqual([true])
  })

  it('close() from an onClose handler stops the reconnect it announced', async () => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: FAST })
    conn.onClose(() => {
      conn.close()
    })
    ;(await server.connection(1)).close(1001)
    await until('closed', () => conn.state === 'closed')
    // The reconnect was scheduled, then cancelled.
    expect(clock.delays).toEqual([20])
    expect(clock.pending).toEqual([])
    clock.advance(AN_HOUR)
    expect(log.attemptedAt).toHaveLength(1)
    expect(log.states).toEqual(['open', 'reconnecting', 'closed'])
  })

  it('close() from an onStateChange handler is reflected in willReconnect', async () => {
    const server = await startServer()
    const { conn, log, clock } = open(server.url(), { reconnect: FAST })
    conn.onStateChange((state) => {
      if (state === 'reconnecting') conn.close()
    })
    ;(await server.connection(1)).close(1001)
    await until('closed', () => conn.state === 'closed')
    expect(clock.pending).toEqual([])
    clock.advance(AN_HOUR)
    expect(log.attemptedAt).toHaveLength(1)
    expect(log.closes).toEqual([{ code: 1001, reason: '', willReconnect: false }])
  })

  it('close() while connecting abandons the handshake and never reconnects', async () => {
    const server = await startServer()
    const { conn, log, clock, sockets } = open(server.url(), { reconnect: FAST })
    conn.close()
    expect(conn.state).toBe('closed')
    // The abandoned socket finishes closing: real I/O, so wait for it rather than for a fixed time.
    await until('the socket to close', () => sockets[0]!.readyState === sockets[0]!.CLOSED)
    clock.advance(AN_HOUR)
    expect(sockets).toHaveLength(1)
    expect(log.opens).toEqual([])
    expect(log.closes).toEqual([{ code: 1000, reason: '', willReconnect: false }])
    expect(server.sockets.filter((socket) => socket.readyState === socket.OPEN)).toEqual([])
  })
})
