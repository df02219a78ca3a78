import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer, JsonWebsocketConsumer, WebsocketConsumer, type WebsocketData } from '../../src/index.js'
import { ProtocolTypeRouter, URLRouter, route } from '../../src/routing/index.js'
import { captureLogger, closed, connect, nextMessage, refusal, startServer, waitFor, wsUrl } from './helpers.js'

const groupsOf = (layer: InMemoryChannelLayer): Map<string, unknown> =>
  (layer as unknown as { groups: Map<string, unknown> }).groups

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

  override async disconnect(): Promise<void> {
    Member.disconnects++
  }
}

const app = ProtocolTypeRouter({ websocket: URLRouter([route('/ws/', Member.asApp())]) })

describe('consumers over real sockets', () => {
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
    ['constructor.x', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['to.string', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['websocket.accept', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['__proto__', 'SWY_INVALID_MESSAGE_TYPE'],
    ['accept', 'SWY_INVALID_MESSAGE_TYPE'],
  ])('never dispatches the hostile type %j: logs %s and closes with 1011', async (type, code) => {
    const layer = new InMemoryChannelLayer()
    const { logger, lines } = captureLogger()
    const server = await startServer(app, { layer, logger })
    const { socket } = await connect(wsUrl(server))
    await waitFor(() => Member.channels.length > 0)
    const ended = closed(socket)
    await layer.send(Member.channels.at(-1)!, { type })
    expect((await ended).code).toBe(1011)
    await waitFor(() => lines.some((line) => (line.err as { code?: string } | undefined)?.code === code))
    const line = lines.find((l) => (l.err as { code?: string } | undefined)?.code === code)!
    expect(line).toMatchObject({ consumer: 'Member', connId: expect.any(String) as string })
    expect(groupsOf(layer).size).toBe(0)
  })

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
