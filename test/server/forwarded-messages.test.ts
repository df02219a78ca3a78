import { describe, expect, it } from 'vitest'
import type { WebSocket } from 'ws'

import { InMemoryChannelLayer, JsonWebsocketConsumer } from '../../src/index.js'
import { captureLogger, connect, deferred, refusal, sleep, startServer, waitFor, wsUrl } from './helpers.js'

/** Every JSON frame a client gets, parsed, in arrival order. */
function framesOf(socket: WebSocket): unknown[] {
  const seen: unknown[] = []
  socket.on('message', (data: Buffer) => seen.push(JSON.parse(data.toString())))
  return seen
}

/** `count` clients, each in the class's `static groups` once open (they are joined before the accept). */
async function members(url: string, count: number): Promise<{ socket: WebSocket; seen: unknown[] }[]> {
  const opened = await Promise.all(Array.from({ length: count }, () => connect(url)))
  return opened.map(({ socket }) => ({ socket, seen: framesOf(socket) }))
}

/**
 * One member of the group `room` that forwards `type`, on a server of its own, with a client frame's handler in
 * progress: it waits for `release()`, then sends `reply` if there is one.
 */
async function heldMember(
  layer: InMemoryChannelLayer,
  type: string,
  reply?: object,
): Promise<{ member: { socket: WebSocket; seen: unknown[] }; release: () => void }> {
  const released = deferred<undefined>()
  let holding = false
  class Held extends JsonWebsocketConsumer {
    static override groups = ['room']
    static override forward = [type]

    override async receiveJson(): Promise<void> {
      holding = true
      await released.promise
      if (reply !== undefined) await this.sendJson(reply)
    }
  }
  const server = await startServer(Held.asApp(), { layer })
  const [member] = await members(wsUrl(server), 1)
  if (member === undefined) throw new Error('no member')
  member.socket.send('{}')
  await waitFor(() => holding, 2000, 'the client frame in its handler')
  return {
    member,
    release: () => {
      released.resolve(undefined)
    },
  }
}

describe('static forward: layer messages sent to the client as they are, with no handler', () => {
  it('sends a group message to every member as it is, type and fields, in order', async () => {
    class Reader extends JsonWebsocketConsumer {
      static override groups = ['news']
      static override forward = ['news.update']
    }
    const layer = new InMemoryChannelLayer()
    const server = await startServer(Reader.asApp(), { layer })
    const clients = await members(wsUrl(server), 20)
    for (let n = 0; n < 5; n++) await layer.groupSend('news', { type: 'news.update', n, tags: ['a', n] })
    await waitFor(() => clients.every(({ seen }) => seen.length === 5), 2000, 'five frames on every client')
    const expected = Array.from({ length: 5 }, (_, n) => ({ type: 'news.update', n, tags: ['a', n] }))
    for (const { seen } of clients) expect(seen).toEqual(expected)
  })

  it('keeps forwarded messages behind a handled one still running, in the order they were sent', async () => {
    class Mixed extends JsonWebsocketConsumer {
      static override groups = ['steps']
      static override forward = ['step.forwarded']

      async step_handled(event: { n: number }): Promise<void> {
        // Long enough for the messages behind it to arrive while it runs.
        await sleep(30)
        await this.sendJson({ handled: event.n })
      }
    }
    const layer = new InMemoryChannelLayer()
    const server = await startServer(Mixed.asApp(), { layer })
    const [member] = await members(wsUrl(server), 1)
    const types = ['step.handled', 'step.forwarded', 'step.forwarded', 'step.handled', 'step.forwarded']
    for (const [n, type] of types.entries()) await layer.groupSend('steps', { type, n })
    await waitFor(() => member?.seen.length === 5, 2000, 'five frames')
    expect(member?.seen).toEqual([
      { handled: 0 },
      { type: 'step.forwarded', n: 1 },
      { type: 'step.forwarded', n: 2 },
      { handled: 3 },
      { type: 'step.forwarded', n: 4 },
    ])
  })

  it("waits for a client frame's handler in progress, as a handler would (one at a time, as in Channels)", async () => {
    const layer = new InMemoryChannelLayer()
    const { member, release } = await heldMember(layer, 'room.note', { reply: true })
    await layer.groupSend('room', { type: 'room.note', text: 'hi' })
    await sleep(20)
    expect(member.seen).toEqual([])
    release()
    await waitFor(() => member.seen.length === 2, 2000, 'both frames')
    expect(member.seen).toEqual([{ reply: true }, { type: 'room.note', text: 'hi' }])
  })

  it('forwards a whole full channel that waited behind a handler, in order, without a recursion as deep as it', async () => {
    const count = 20_000
    const layer = new InMemoryChannelLayer({ capacity: count })
    const { member, release } = await heldMember(layer, 'room.note')
    // Queued on the member's channel while its handler runs: taken one after another, at once, when it returns.
    for (let n = 0; n < count; n++) await layer.groupSend('room', { type: 'room.note', n })
    release()
    await waitFor(() => member.seen.length === count, 10_000, 'every queued frame')
    expect(member.seen.map((frame) => (frame as { n: number }).n)).toEqual(Array.from({ length: count }, (_, n) => n))
  })

  it.each([
    ['a client event type', ['websocket.send']],
    ['an http event type', ['http.response.body']],
    ['a type without a dot', ['update']],
    ['a type with a leading underscore', ['_private.thing']],
    ['a type its class also handles', ['news.update']],
    ['not an array', 'news.update'],
  ])('refuses the handshake (500, logged) of a class whose forward lists %s', async (_what, forward) => {
    class Wrong extends JsonWebsocketConsumer {
      static override forward = forward as readonly string[]
      async news_update(): Promise<void> {
        await this.sendJson({ handled: true })
      }
    }
    const { logger, lines } = captureLogger()
    const server = await startServer(Wrong.asApp(), { logger, layer: new InMemoryChannelLayer() })
    expect((await refusal(wsUrl(server))).status).toBe(500)
    await waitFor(() => lines.some((line) => line.consumer === 'Wrong'), 2000, 'the error logged')
    expect(JSON.stringify(lines)).toContain('SWY_INVALID_OPTION')
  })

  it('still refuses (counts, logs, goes on) a type it neither forwards nor handles', async () => {
    class Reader extends JsonWebsocketConsumer {
      static override groups = ['news']
      static override forward = ['news.update']
    }
    const { logger, lines } = captureLogger()
    const layer = new InMemoryChannelLayer()
    const server = await startServer(Reader.asApp(), { layer, logger })
    const [member] = await members(wsUrl(server), 1)
    await layer.groupSend('news', { type: 'news.other' })
    await layer.groupSend('news', { type: 'news.update', n: 1 })
    await waitFor(() => member?.seen.length === 1, 2000, 'the forwarded frame')
    expect(member?.seen).toEqual([{ type: 'news.update', n: 1 }])
    expect(lines.some((line) => line.msg === 'layer message refused' && line.reason === 'no handler')).toBe(true)
  })
})
