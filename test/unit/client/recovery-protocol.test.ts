/**
 * The client's half of the recovery protocol (docs/topics/recovery-protocol.md), against a real `ws` server: it
 * keeps the last `__position__` per group from the messages it receives and hands them back in the URL of each
 * reconnect, `__position__=<group>:<offset>:<epoch>` once per group.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'

import { type Connection, connect } from '../../../src/client/index.js'
import {
  MAX_HANDED_BACK_POSITIONS,
  POSITION_PARAM,
  RECOVERY_MESSAGE_TYPE,
} from '../../../src/protocol/recovery-protocol.js'
import { waitFor } from '../../support/wait.js'
import { ManualClock } from './manual-clock.js'
import { recordingWebSocket } from './recording-websocket.js'
import { TestServer } from './test-server.js'

const servers: TestServer[] = []
const connections: Connection[] = []

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close()
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

const until = (what: string, check: () => boolean): Promise<number> => waitFor(what, check, { intervalMs: 2 })

/** A client on a manual clock whose every attempt's URL is recorded. */
async function start(path = '/ws/room/?room=lobby') {
  const server = await TestServer.start()
  servers.push(server)
  const clock = new ManualClock()
  const urls: string[] = []
  const conn = connect(server.url(path), {
    WebSocket: recordingWebSocket((socket: WebSocket) => urls.push(socket.url)),
    clock,
    reconnect: { initialDelayMs: 10, jitter: 0 },
  })
  connections.push(conn)
  const received: unknown[] = []
  conn.onMessage((message) => received.push(message))
  const socket = await server.connection(1)
  await until('open', () => conn.state === 'open')
  return { server, clock, urls, conn, received, socket }
}

/** Sends `messages` from the server, waits until the client has them, then drops the connection and reconnects. */
async function receiveThenReconnect(setup: Awaited<ReturnType<typeof start>>, messages: readonly object[]) {
  const { server, clock, conn, received, socket } = setup
  const before = received.length
  for (const message of messages) socket.send(JSON.stringify(message))
  await until('the messages', () => received.length === before + messages.length)
  const attempt = server.connections + 1
  socket.terminate()
  await until('reconnecting', () => conn.state === 'reconnecting')
  clock.runNext()
  await until('open again', () => conn.state === 'open')
  return server.connection(attempt)
}

const handedBack = (url: string | undefined): string[] =>
  new URL(url ?? 'ws://missing/').searchParams.getAll(POSITION_PARAM)

const at = (group: string, offset: number, epoch = 'e1') => ({ group, offset, epoch })

describe('the client hands positions back on reconnect', () => {
  it('hands back nothing on the first connection, then the last position of each group, keeping the query', async () => {
    const setup = await start()
    await receiveThenReconnect(setup, [
      { type: 'chat.message', text: 'a', __position__: at('chat.lobby', 1) },
      { type: 'chat.message', text: 'b', __position__: at('chat.lobby', 2) },
      { type: 'news.item', __position__: at('news', 7, 'x-9') },
      { type: 'chat.typing' }, // no position: changes nothing
    ])
    const [first, second] = setup.urls
    expect(handedBack(first)).toEqual([])
    expect(new URL(second ?? '').searchParams.get('room')).toBe('lobby')
    expect(handedBack(second)).toEqual(['chat.lobby:2:e1', 'news:7:x-9'])
    // The connection's URL is the one it was given: positions go only into each attempt's.
    expect(setup.conn.url).toBe(first)
  })

  it('takes the position a switchyard.recovery frame carries (recovered: false) and keeps it across reconnects', async () => {
    const setup = await start()
    await receiveThenReconnect(setup, [{ type: 'chat.message', __position__: at('chat.lobby', 3) }])
    setup.socket = await setup.server.connection(2)
    await receiveThenReconnect(setup, [
      { type: RECOVERY_MESSAGE_TYPE, group: 'chat.lobby', recovered: false, __position__: at('chat.lobby', 90, 'e2') },
    ])
    expect(handedBack(setup.urls[1])).toEqual(['chat.lobby:3:e1'])
    expect(handedBack(setup.urls[2])).toEqual(['chat.lobby:90:e2'])
  })

  it('ignores positions that are not objects with a string group', async () => {
    const setup = await start()
    await receiveThenReconnect(setup, [
      { type: 'a.b', __position__: null },
      { type: 'a.b', __position__: 'chat.lobby:1:e1' },
      { type: 'a.b', __position__: { group: 5, offset: 1, epoch: 'e1' } },
      { type: 'a.b', __position__: [] },
    ])
    expect(handedBack(setup.urls[1])).toEqual([])
    expect(setup.received).toHaveLength(4) // still dispatched: positions are the server's to judge
  })

  it(`hands back at most ${MAX_HANDED_BACK_POSITIONS} positions: the most recently updated groups`, async () => {
    const setup = await start()
    const groups = Array.from({ length: MAX_HANDED_BACK_POSITIONS + 2 }, (_, i) => `g${i}`)
    // g0 is updated again last, so g1 and g2 are the stalest.
    await receiveThenReconnect(setup, [
      ...groups.map((group) => ({ type: 'a.b', __position__: at(group, 1) })),
      { type: 'a.b', __position__: at('g0', 2) },
    ])
    const back = handedBack(setup.urls[1])
    expect(back).toHaveLength(MAX_HANDED_BACK_POSITIONS)
    expect(back).not.toContain('g1:1:e1')
    expect(back).not.toContain('g2:1:e1')
    expect(back.at(-1)).toBe('g0:2:e1')
  })
})
