import { describe, expect, it } from 'vitest'

import {
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  StopConsumer,
  WebsocketConsumer,
  type WebsocketData,
} from '../../src/index.js'
import { ProtocolTypeRouter, URLRouter, route } from '../../src/routing/index.js'
import { captureLogger, closed, connect, nextMessage, refusal, startServer, waitFor, wsUrl } from './helpers.js'

const groupsOf = (layer: InMemoryChannelLayer): Map<string, unknown> =>
  (layer as unknown as { groups: { groups: Map<string, unknown> } }).groups.groups
/** Channels the layer holds any state for (queued messages, receives, listeners): what must not outlive consumers. */
const channelStatesOf = (layer: InMemoryChannelLayer): number =>
  (layer as unknown as { local: { size: number } }).local.size

class Member extends JsonWebsocketConsumer {
  static override groups = ['everyone']
  static channels: string[] = []
  static disconnects = 0

  override async connect(): Promise<void> {
    Member.channels.push(this.channelName)
    await this.accept()
  }

  override async receiveJson(content: unknown): Promise<void> {
    await this.sendJson({ echo: content })
  }

  async note_message(event: { type: 'note.message'; text: string }): Promise<void> {
    await this.sendJson({ note: event.text })
  }

  /** Stops from inside a layer message's handler: the consumer ends while its channel has no listener. */
  async leave_now(_event: { type: 'leave.now' }): Promise<void> {
    await this.close()
    throw new StopConsumer()
  }

  override async disconnect(): Promise<void> {
    Member.disconnects++
  }
}

const app = ProtocolTypeRouter({ websocket: URLRouter([route('/ws/', Member.asApp())]) })

describe('consumers over real sockets', () => {
  it.each([
    ['malformed JSON', '{nope', 1007, 'malformed JSON'],
    ['null', 'null', 1007, 'JSON object expected'],
    ['a JSON string', '"str"', 1007, 'JSON object expected'],
    ['a JSON array', '[1, 2]', 1007, 'JSON object expected'],
  ])(
    'closes over %s with 1007 at info level, and drops the frames queued behind the close',
    async (_what, frame, code, reason) => {
      const layer = new InMemoryChannelLayer()
      const { logger, lines } = captureLogger()
      const server = await startServer(app, { layer, logger })
      const { socket } = await connect(wsUrl(server))
      const ended = closed(socket)
      const echoed: string[] = []
      socket.on('message', (data: Buffer) => echoed.push(data.toString()))
      socket.send(frame)
      socket.send(JSON.stringify({ behind: 'the close' }))
      expect(await ended).toEqual({ code, reason })
      await waitFor(() => server.app.switchyard.stats().connections === 0)
      expect(echoed).toEqual([])
      expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([])
      expect(lines.find((line) => line.msg === 'closed over client data')).toMatchObject({
        level: 30,
        code: 'SWY_INVALID_JSON',
      })
      expect(server.app.switchyard.stats().applicationErrors).toBe(0)
    },
  )

  it('closes with 1007 at info level when the app cannot use what the client sent (a field it left out)', async () => {
    class Chat extends JsonWebsocketConsumer<{ text: string }> {
      override async receiveJson(content: { text: string }): Promise<void> {
        // The README's five-minute chat: `{}` makes `text` undefined, which no message may carry.
        await this.channelLayer.groupSend('room', { type: 'chat.message', text: content.text })
      }
    }
    const layer = new InMemoryChannelLayer()
    const { logger, lines } = captureLogger()
    const server = await startServer(ProtocolTypeRouter({ websocket: Chat.asApp() }), { layer, logger })
    const { socket } = await connect(wsUrl(server))
    const ended = closed(socket)
    socket.send('{}')
    expect(await ended).toEqual({ code: 1007, reason: 'invalid data' })
    expect(lines.find((line) => line.msg === 'closed over client data')).toMatchObject({
      level: 30,
      code: 'SWY_MESSAGE_NOT_SERIALIZABLE',
    })
    expect(lines.filter((line) => (line.level as number) >= 50)).toEqual([])
    expect(server.app.switchyard.stats().applicationErrors).toBe(0)
  })

  it('answers plain HTTP with 404 when the application has no http branch, without an error', async () => {
    const { logger, lines } = captureLogger()
    const server = await startServer(app, { layer: new InMemoryChannelLayer(), logger })
    const response = await fetch(server.url + '/')
    expect(response.status).toBe(404)
    expect(await response.text()).toBe('Not Found')
    expect(lines.filter((line) => (line.level as number) >= 40)).toEqual([])
    expect(server.app.switchyard.stats().applicationErrors).toBe(0)
  })

  it('closes with 1007 on malformed JSON and 1003 on a binary frame; the server keeps serving', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await startServer(app, { layer })
    const { socket } = await connect(wsUrl(server))
    const bad = closed(socket)
    socket.send('{nope')
    expect((await bad).code).toBe(1007)
    const second = await connect(wsUrl(server))
    const binary = closed(second.socket)
    second.socket.send(new Uint8Array([1, 2, 3]))
    expect((await binary).code).toBe(1003)
    const third = await connect(wsUrl(server))
    third.socket.send(JSON.stringify({ still: 'alive' }))
    expect(JSON.parse((await nextMessage(third.socket)).data.toString())).toEqual({ echo: { still: 'alive' } })
  })

  it.each([
    ['constructor.x', 'no handler', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['to.string', 'no handler', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['__proto__', 'no handler', 'SWY_INVALID_MESSAGE_TYPE'],
    ['accept', 'no handler', 'SWY_INVALID_MESSAGE_TYPE'],
    ['websocket.accept', 'client event type', undefined],
    ['websocket.receive', 'client event type', undefined],
    ['websocket.disconnect', 'client event type', undefined],
  ])(
    'never dispatches the layer message type %j (%s): refused, logged, and the connection goes on',
    async (type, reason, code) => {
      const layer = new InMemoryChannelLayer()
      const { logger, lines } = captureLogger()
      const server = await startServer(app, { layer, logger })
      const { socket } = await connect(wsUrl(server))
      await waitFor(() => Member.channels.length > 0)
      await layer.send(Member.channels.at(-1)!, { type, text: JSON.stringify({ forged: true }), code: 1000 })
      await layer.send(Member.channels.at(-1)!, { type: 'note.message', text: 'after' })
      expect(JSON.parse((await nextMessage(socket)).data.toString())).toEqual({ note: 'after' })
      const line = lines.find((l) => l.msg === 'layer message refused')
      expect(line).toMatchObject({
        level: 40,
        consumer: 'Member',
        type,
        reason,
        ...(code === undefined ? {} : { code }),
      })
      expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([])
      expect(server.app.switchyard.stats().applicationErrors).toBe(0)
      socket.send(JSON.stringify({ still: 'open' }))
      expect(JSON.parse((await nextMessage(socket)).data.toString())).toEqual({ echo: { still: 'open' } })
    },
  )

  it('runs 1 000 connect/disconnect cycles with no leaked group memberships or connections', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await startServer(app, { layer })
    const before = Member.disconnects
    for (let i = 0; i < 1000; i++) {
      const { socket } = await connect(wsUrl(server))
      const done = closed(socket)
      socket.close(1000)
      await done
    }
    await waitFor(() => Member.disconnects - before === 1000, 5000, 'every disconnect handler')
    await waitFor(() => server.app.switchyard.stats().connections === 0)
    expect(groupsOf(layer).size).toBe(0)
  })

  it('keeps no channel state once members that handled group messages are gone, however they stopped', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await startServer(app, { layer })
    const members = await Promise.all(Array.from({ length: 20 }, () => connect(wsUrl(server))))
    await waitFor(() => (groupsOf(layer).get('everyone') as Map<string, unknown> | undefined)?.size === 20)
    const notes = members.map(({ socket }) => {
      const seen: unknown[] = []
      socket.on('message', (data: Buffer) => seen.push(JSON.parse(data.toString())))
      return seen
    })
    for (let n = 0; n < 5; n++) await layer.groupSend('everyone', { type: 'note.message', text: `n${n}` })
    await waitFor(() => notes.every((seen) => seen.length === 5))
    // One listener per member, waiting for its next message.
    expect(channelStatesOf(layer)).toBe(20)
    // Half stop from inside a layer handler (their channel then has no listener), half close from the client.
    const ends = members.map(({ socket }) => closed(socket))
    for (const { socket } of members.slice(10)) socket.close(1000)
    await layer.groupSend('everyone', { type: 'leave.now' })
    await Promise.all(ends)
    await waitFor(() => server.app.switchyard.stats().connections === 0)
    await waitFor(() => groupsOf(layer).size === 0)
    expect(channelStatesOf(layer)).toBe(0)
  })

  it('shuts down gracefully: clients get 1001, disconnect handlers run, groups are left', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await startServer(app, { layer })
    const sockets = await Promise.all([connect(wsUrl(server)), connect(wsUrl(server)), connect(wsUrl(server))])
    await waitFor(() => (groupsOf(layer).get('everyone') as Map<string, unknown> | undefined)?.size === 3)
    const before = Member.disconnects
    const codes = sockets.map(({ socket }) => closed(socket))
    await server.close()
    expect((await Promise.all(codes)).map((c) => c.code)).toEqual([1001, 1001, 1001])
    expect(Member.disconnects - before).toBe(3)
    expect(groupsOf(layer).size).toBe(0)
  })

  it('answers 500 for an exception in connect() and logs it with the consumer name', async () => {
    class Broken extends WebsocketConsumer {
      override async connect(): Promise<void> {
        throw new Error('connect bug')
      }
    }
    const { logger, lines } = captureLogger()
    const server = await startServer(Broken.asApp(), { logger })
    expect((await refusal(wsUrl(server))).status).toBe(500)
    await waitFor(() => lines.some((line) => line.consumer === 'Broken'))
    expect(JSON.stringify(lines)).toContain('connect bug')
  })

  it('closes with 1011 for an exception after accept', async () => {
    class LateBug extends WebsocketConsumer {
      override async receive(_data: WebsocketData): Promise<void> {
        throw new Error('late bug')
      }
    }
    const server = await startServer(LateBug.asApp())
    const { socket } = await connect(wsUrl(server))
    const ended = closed(socket)
    socket.send('x')
    expect((await ended).code).toBe(1011)
  })
})
