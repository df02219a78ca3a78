import { describe, expect, it } from 'vitest'

import {
  AcceptConnection,
  createMetrics,
  DenyConnection,
  InMemoryChannelLayer,
  InvalidOptionError,
  JsonWebsocketConsumer,
  NoChannelLayerError,
  WebsocketConsumer,
  type WebsocketData,
} from '../../../src/index.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'
import { captureLogs } from '../routing/fakes.js'

/** The layer's groups with their members, as inspect shows them: how tests prove no membership leaked. */
const groupsOf = async (layer: InMemoryChannelLayer): Promise<Map<string, number>> =>
  new Map((await layer.inspect()).groups.map((group) => [group.name, group.members]))

class Echo extends WebsocketConsumer {
  static received: WebsocketData[] = []
  static disconnectedWith: number[] = []

  override async receive(data: WebsocketData): Promise<void> {
    Echo.received.push(data)
    await this.send(data)
  }

  override async disconnect(code: number): Promise<void> {
    Echo.disconnectedWith.push(code)
  }
}

describe('WebsocketConsumer', () => {
  it('accepts, echoes text and bytes, and reports the disconnect code', async () => {
    const communicator = new WebsocketCommunicator(Echo.asApp(), '/testws/')
    expect(await communicator.connect()).toMatchObject({ connected: true, subprotocol: null })
    await communicator.sendTo({ text: 'hello' })
    expect(await communicator.receiveFrom()).toBe('hello')
    await communicator.sendTo({ bytes: new Uint8Array([119, 0, 0, 0]) })
    expect(await communicator.receiveFrom()).toEqual(new Uint8Array([119, 0, 0, 0]))
    await communicator.disconnect(4123)
    expect(Echo.received).toEqual([{ text: 'hello' }, { bytes: new Uint8Array([119, 0, 0, 0]) }])
    expect(Echo.disconnectedWith).toContain(4123)
  })

  it('gives each connection its own instance and scope', async () => {
    class PathEcho extends WebsocketConsumer {
      override async receive(): Promise<void> {
        await this.send({ text: this.scope.type === 'websocket' ? this.scope.path : '' })
      }
    }
    const app = PathEcho.asApp()
    const first = new WebsocketCommunicator(app, '/first/')
    const second = new WebsocketCommunicator(app, '/second/')
    await first.connect()
    await second.connect()
    await second.sendTo({ text: 'x' })
    await first.sendTo({ text: 'x' })
    expect(await second.receiveFrom()).toBe('/second/')
    expect(await first.receiveFrom()).toBe('/first/')
    await first.disconnect()
    await second.disconnect()
  })

  it('chooses a subprotocol the client offered', async () => {
    class Proto extends WebsocketConsumer {
      override async connect(): Promise<void> {
        const offered = this.scope.type === 'websocket' ? this.scope.subprotocols : []
        expect(offered).toEqual(['subprotocol1', 'subprotocol2'])
        await this.accept({ subprotocol: 'subprotocol2' })
      }
    }
    const communicator = new WebsocketCommunicator(Proto.asApp(), '/', {
      subprotocols: ['subprotocol1', 'subprotocol2'],
    })
    expect(await communicator.connect()).toMatchObject({ connected: true, subprotocol: 'subprotocol2' })
    await communicator.disconnect()
  })

  it('sends accept headers', async () => {
    class WithHeaders extends WebsocketConsumer {
      override async connect(): Promise<void> {
        await this.accept({ headers: [['x-foo', 'bar']] })
      }
    }
    const communicator = new WebsocketCommunicator(WithHeaders.asApp(), '/')
    expect(await communicator.connect()).toMatchObject({ connected: true, headers: [['x-foo', 'bar']] })
    await communicator.disconnect()
  })

  it('closes with a code and a reason after accepting', async () => {
    class Closer extends WebsocketConsumer {
      override async connect(): Promise<void> {
        await this.accept()
        await this.close(4007, 'test reason')
      }
    }
    const communicator = new WebsocketCommunicator(Closer.asApp(), '/')
    expect((await communicator.connect()).connected).toBe(true)
    expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.close', code: 4007, reason: 'test reason' })
    await communicator.disconnect(4007)
  })

  it('rejects the handshake on close() or DenyConnection before accepting, and accepts on AcceptConnection', async () => {
    class Closes extends WebsocketConsumer {
      override async connect(): Promise<void> {
        await this.close()
      }
    }
    class Denies extends WebsocketConsumer {
      override async connect(): Promise<void> {
        throw new DenyConnection()
      }
    }
    class Accepts extends WebsocketConsumer {
      override async connect(): Promise<void> {
        throw new AcceptConnection()
      }
    }
    expect(await new WebsocketCommunicator(Closes.asApp(), '/').connect()).toEqual({ connected: false, code: 1000 })
    expect(await new WebsocketCommunicator(Denies.asApp(), '/').connect()).toEqual({ connected: false, code: 1000 })
    expect((await new WebsocketCommunicator(Accepts.asApp(), '/').connect()).connected).toBe(true)
  })

  it('treats { text: null, bytes } as binary and prefers text when both are set', async () => {
    class Describe extends WebsocketConsumer {
      override async receive(data: WebsocketData): Promise<void> {
        await this.send({
          text: 'text' in data ? `Received text: ${data.text}` : `Received bytes of length: ${data.bytes.length}`,
        })
      }
    }
    const communicator = new WebsocketCommunicator(Describe.asApp(), '/')
    await communicator.connect()
    await communicator.sendInput({
      type: 'websocket.receive',
      text: null,
      bytes: new TextEncoder().encode('test data'),
    })
    expect(await communicator.receiveFrom()).toBe('Received bytes of length: 9')
    await communicator.sendTo({ bytes: new TextEncoder().encode('more data') })
    expect(await communicator.receiveFrom()).toBe('Received bytes of length: 9')
    await communicator.sendTo({ text: 'Hello, world!' })
    expect(await communicator.receiveFrom()).toBe('Received text: Hello, world!')
    await communicator.disconnect()
  })
})

describe('WebsocketConsumer groups', () => {
  class Room extends WebsocketConsumer {
    static override groups = ['chat']
    static channels: string[] = []

    override async connect(): Promise<void> {
      Room.channels.push(this.channelName)
      await this.channelLayer.groupAdd('joined-in-connect', this.channelName)
      await this.accept()
    }

    override async receive(data: WebsocketData): Promise<void> {
      await this.send(data)
    }

    async room_say(event: { type: 'room.say'; text: string }): Promise<void> {
      await this.send({ text: event.text })
    }
  }

  it('joins static groups, takes group messages, and leaves every group on disconnect', async () => {
    const layer = new InMemoryChannelLayer()
    const communicator = new WebsocketCommunicator(Room.asApp(), '/', { layer })
    await communicator.connect()
    expect([...(await groupsOf(layer)).keys()].sort()).toEqual(['chat', 'joined-in-connect'])
    await layer.groupSend('chat', { type: 'room.say', text: 'hello' })
    expect(await communicator.receiveFrom()).toBe('hello')
    await communicator.disconnect()
    expect((await groupsOf(layer)).size).toBe(0)
  })

  it('receives layer messages sent to its own channel', async () => {
    const layer = new InMemoryChannelLayer()
    const communicator = new WebsocketCommunicator(Room.asApp(), '/', { layer })
    await communicator.connect()
    const channel = Room.channels.at(-1)!
    await layer.send(channel, { type: 'room.say', text: 'direct' })
    expect(await communicator.receiveFrom()).toBe('direct')
    await communicator.disconnect()
  })

  it('counts refused layer messages and client errors in the metrics', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    try {
      const layer = new InMemoryChannelLayer()
      const communicator = new WebsocketCommunicator(Room.asApp(), '/', { layer })
      await communicator.connect()
      await layer.send(Room.channels.at(-1)!, { type: 'websocket.receive', text: 'forged' })
      await layer.send(Room.channels.at(-1)!, { type: 'room.unknown' })
      await layer.send(Room.channels.at(-1)!, { type: 'room.say', text: 'real' })
      expect(await communicator.receiveFrom()).toBe('real')
      await communicator.disconnect()
      class Strict extends JsonWebsocketConsumer {}
      const json = new WebsocketCommunicator(Strict.asApp(), '/')
      await json.connect()
      await json.sendTo({ text: 'null' })
      expect(await json.receiveOutput()).toMatchObject({ type: 'websocket.close', code: 1007 })
      const text = await metrics.registry.metrics()
      expect(text).toContain('switchyard_layer_messages_refused_total{consumer="Room",reason="client event type"} 1')
      expect(text).toContain('switchyard_layer_messages_refused_total{consumer="Room",reason="no handler"} 1')
      expect(text).toContain('switchyard_client_errors_total{consumer="Strict",code="SWY_INVALID_JSON"} 1')
    } finally {
      metrics.close()
    }
  })

  it('refuses client events forged through the layer, and goes on running (Channels has this hole)', async () => {
    const layer = new InMemoryChannelLayer()
    const { logger, lines } = captureLogs()
    const communicator = new WebsocketCommunicator(Room.asApp(), '/', { layer, logger })
    await communicator.connect()
    const channel = Room.channels.at(-1)!
    await layer.send(channel, { type: 'websocket.receive', text: 'forged' })
    await layer.send(channel, { type: 'websocket.disconnect', code: 1000 })
    await layer.send(channel, { type: 'http.request', body: new Uint8Array() })
    await layer.groupSend('chat', { type: 'websocket.receive', text: 'forged too' })
    await layer.send(channel, { type: 'room.unknown' })
    await layer.send(channel, { type: 'room.say', text: 'real' })
    // Only the real message arrives: nothing was echoed, nothing closed the socket.
    expect(await communicator.receiveFrom()).toBe('real')
    expect(await communicator.receiveNothing({ timeoutMs: 50 })).toBe(true)
    await communicator.sendTo({ text: 'still open' })
    expect(await communicator.receiveFrom()).toBe('still open')
    await communicator.disconnect()
    expect(lines.filter((line) => line.msg === 'layer message refused')).toEqual([
      expect.objectContaining({ level: 40, type: 'websocket.receive', reason: 'client event type', refused: 1 }),
    ])
  })

  it('leaves its groups even when it crashes', async () => {
    class Crashes extends Room {
      override async receive(): Promise<void> {
        throw new Error('handler bug')
      }
    }
    const layer = new InMemoryChannelLayer()
    const communicator = new WebsocketCommunicator(Crashes.asApp(), '/', { layer })
    await communicator.connect()
    await communicator.sendTo({ text: 'boom' })
    await expect(communicator.wait()).rejects.toThrow('handler bug')
    expect((await groupsOf(layer)).size).toBe(0)
  })

  it('says which option is missing when static groups need a layer that was not given', async () => {
    const communicator = new WebsocketCommunicator(Room.asApp(), '/')
    await expect(communicator.connect()).rejects.toBeInstanceOf(NoChannelLayerError)
  })
})

describe('asApp', () => {
  class Configured extends WebsocketConsumer {
    greeting = 'hi'
    override async connect(): Promise<void> {
      await this.accept()
      await this.send({ text: this.greeting })
    }
  }

  it('sets declared fields from init options', async () => {
    const communicator = new WebsocketCommunicator(Configured.asApp({ greeting: 'ahoy' }), '/')
    await communicator.connect()
    expect(await communicator.receiveFrom()).toBe('ahoy')
    await communicator.disconnect()
  })

  it('rejects init options the class does not declare', async () => {
    const communicator = new WebsocketCommunicator(Configured.asApp({ greetng: 'typo' } as never), '/')
    await expect(communicator.connect()).rejects.toBeInstanceOf(InvalidOptionError)
  })
})
