/**
 * The client's handshake in Node: the `origin` and `headers` options reach the server, and a client whose handshake
 * never succeeds stops with state `refused` instead of retrying forever. Reconnect delays run on a `ManualClock`
 * (see reconnect.test.ts): each test moves time past them by hand instead of sleeping.
 */
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'

import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'

import { type Connection, type ConnectionState, connect } from '../../../src/client/index.js'
import { waitFor } from '../../support/wait.js'
import { ManualClock } from './manual-clock.js'
import { recordingWebSocket } from './recording-websocket.js'
import { TestServer } from './test-server.js'

const FAST = { initialDelayMs: 10, factor: 1, maxDelayMs: 10, jitter: 0 }
const connections: Connection[] = []
const servers: { close(): unknown }[] = []

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close()
  for (const server of servers.splice(0)) await server.close()
})

/** A ws server that refuses every handshake with 403, as an Origin check does, noting each request. */
async function refusingServer(): Promise<{ port: number; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = []
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
      requests.push(info.req)
      done(false, 403)
    },
  })
  await once(wss, 'listening')
  servers.push({
    close: () =>
      new Promise((resolve) => {
        wss.close(resolve)
      }),
  })
  const address = wss.address()
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address')
  return { port: address.port, requests }
}

/** Waits for socket I/O, polling often: nothing here waits for a timer. */
const until = (what: string, check: () => boolean): Promise<number> => waitFor(what, check, { intervalMs: 2 })

/** `count` times: waits for the attempt in flight to fail and the client to schedule the next, then moves time to it. */
async function fireReconnects(clock: ManualClock, count: number): Promise<void> {
  for (let n = 1; n <= count; n++) {
    await until(`failed attempt ${n}`, () => clock.pending.length === 1)
    clock.runNext()
  }
}

function watch(conn: Connection): ConnectionState[] {
  const states: ConnectionState[] = []
  conn.onStateChange((state) => states.push(state))
  connections.push(conn)
  return states
}

describe('the client handshake', () => {
  it('sends the origin and headers options with the handshake in Node', async () => {
    const { port, requests } = await refusingServer()
    const conn = connect(`ws://127.0.0.1:${port}/ws/`, {
      WebSocket,
      origin: 'http://127.0.0.1:8000',
      headers: { authorization: 'Bearer t0ken' },
      reconnect: false,
    })
    connections.push(conn)
    await waitFor('the handshake', () => requests.length === 1)
    expect(requests[0]?.headers.origin).toBe('http://127.0.0.1:8000')
    expect(requests[0]?.headers.authorization).toBe('Bearer t0ken')
  })

  it('stops with state `refused` after reconnect.maxRefusals handshakes that never opened', async () => {
    const { port, requests } = await refusingServer()
    const clock = new ManualClock()
    let attempts = 0
    const conn = connect(`ws://127.0.0.1:${port}/ws/`, {
      WebSocket: recordingWebSocket(() => attempts++),
      clock,
      reconnect: { ...FAST, maxRefusals: 3 },
    })
    const states = watch(conn)
    await fireReconnects(clock, 2)
    await until('refused', () => conn.state === 'refused')
    expect(requests).toHaveLength(3)
    expect(states).toEqual(['reconnecting', 'refused'])
    // Nothing left to fire: however long we wait, no further attempt.
    expect(clock.pending).toEqual([])
    clock.advance(3_600_000)
    expect(attempts).toBe(3)
    expect(() => {
      conn.send({ type: 'chat.message' })
    }).toThrow(/closed for good/)
  })

  it('gives up on a server that never answers after 5 refusals by default', async () => {
    const port = await TestServer.freePort()
    const clock = new ManualClock()
    const conn = connect(`ws://127.0.0.1:${port}/ws/`, { WebSocket, clock, reconnect: FAST })
    const closes: boolean[] = []
    conn.onClose(({ willReconnect }) => closes.push(willReconnect))
    watch(conn)
    await fireReconnects(clock, 4)
    await until('refused', () => conn.state === 'refused')
    expect(closes).toEqual([true, true, true, true, false])
    expect(clock.pending).toEqual([])
  })

  it('never counts a drop after a connection opened as a refusal: it keeps reconnecting', async () => {
    const server = await TestServer.start()
    const clock = new ManualClock()
    const conn = connect(server.url(), { WebSocket, clock, reconnect: { ...FAST, maxRefusals: 2 } })
    const closes: number[] = []
    conn.onClose(({ code }) => closes.push(code))
    const states = watch(conn)
    await until('open', () => conn.state === 'open')
    const port = server.port
    await server.stop()
    // The drop, then five failed attempts: more than maxRefusals, none of them counted.
    await fireReconnects(clock, 5)
    await until('the fifth failed attempt', () => closes.length === 6)
    expect(conn.state).toBe('reconnecting')
    const back = await TestServer.start(port)
    servers.push({ close: () => back.stop() })
    clock.runNext()
    await until('open again', () => conn.state === 'open')
    expect(states).toEqual(['open', 'reconnecting', 'open'])
    expect(closes).toEqual([1006, 1006, 1006, 1006, 1006, 1006])
  })
})
