import { describe, expect, it } from 'vitest'

import {
  AsyncConsumer,
  InMemoryChannelLayer,
  InvalidMessageTypeError,
  UnknownMessageTypeError,
  WebsocketConsumer,
  handlerNameFor,
  type Handlers,
  type Message,
} from '../../../src/index.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'
import { findHandler } from '../../../src/consumer-runtime/dispatch.js'
import { captureLogs } from '../routing/fakes.js'

class Target extends WebsocketConsumer {
  static calls: string[] = []
  static channel = ''

  override async connect(): Promise<void> {
    Target.channel = this.channelName
    await this.accept()
  }

  async chat_message(message: Message): Promise<void> {
    Target.calls.push(message.type)
    await this.send({ text: 'chat' })
  }

  format_helper(): string {
    return 'not a handler in spirit, but Channels-reachable'
  }
}

async function connectedTarget(): Promise<{
  layer: InMemoryChannelLayer
  communicator: WebsocketCommunicator
  lines: Record<string, unknown>[]
}> {
  const layer = new InMemoryChannelLayer()
  const { logger, lines } = captureLogs()
  const communicator = new WebsocketCommunicator(Target.asApp(), '/', { layer, logger })
  await communicator.connect()
  return { layer, communicator, lines }
}

describe('handler dispatch', () => {
  it("maps 'chat.message' to chat_message", () => {
    expect(handlerNameFor('chat.message')).toBe('chat_message')
    expect(handlerNameFor('websocket.receive')).toBe('websocket_receive')
  })

  it.each([
    ['_my_private_handler', /leading underscore/],
    ['.my_private_handler', /leading underscore/],
    ['constructor', /no dot/],
    ['__proto__', /leading underscore/],
    ['accept', /no dot/],
    ['send', /no dot/],
    ['._proto_.x', /leading underscore/],
    ['chat.message;rm', /only letters/],
  ])('refuses the malformed type %j', (type, words) => {
    expect(() => handlerNameFor(type)).toThrow(InvalidMessageTypeError)
    expect(() => handlerNameFor(type)).toThrow(words)
  })

  it('runs a declared handler for a layer message', async () => {
    const { layer, communicator } = await connectedTarget()
    await layer.send(Target.channel, { type: 'chat.message' })
    expect(await communicator.receiveFrom()).toBe('chat')
    await communicator.disconnect()
  })

  it.each([
    ['to.string', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['has.own.property', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['value.of', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['is.prototype.of', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['constructor.x', 'SWY_UNKNOWN_MESSAGE_TYPE'],
    ['_my_private_handler', 'SWY_INVALID_MESSAGE_TYPE'],
  ])('never reaches Object.prototype or undeclared names through %j: refused with its code', async (type, code) => {
    const { layer, communicator, lines } = await connectedTarget()
    await layer.send(Target.channel, { type })
    await layer.send(Target.channel, { type: 'chat.message' })
    // The hostile message ran nothing; the consumer goes on and handles the next one.
    expect(await communicator.receiveFrom()).toBe('chat')
    expect(lines.filter((line) => line.msg === 'layer message refused')).toEqual([
      expect.objectContaining({ type, reason: 'no handler', code }),
    ])
    await communicator.disconnect()
  })

  it('dispatches only methods, not getters or instance fields', async () => {
    class Fields extends AsyncConsumer {
      field_handler = (): void => undefined
      get getter_handler(): () => void {
        return () => undefined
      }
    }
    const consumer = new Fields()
    await expect(consumer.dispatch({ type: 'field.handler' })).rejects.toBeInstanceOf(UnknownMessageTypeError)
    await expect(consumer.dispatch({ type: 'getter.handler' })).rejects.toBeInstanceOf(UnknownMessageTypeError)
  })

  it('finds each class its own handler, however often a type is dispatched (the lookup is cached per class)', async () => {
    const seen: string[] = []
    class Base extends AsyncConsumer {
      item_added(): void {
        seen.push('base')
      }
    }
    class Derived extends Base {
      override item_added(): void {
        seen.push('derived')
      }
    }
    class Inherits extends Base {}
    for (let i = 0; i < 2; i++) {
      for (const consumer of [new Base(), new Derived(), new Inherits()])
        await consumer.dispatch({ type: 'item.added' })
    }
    expect(seen).toEqual(['base', 'derived', 'base', 'base', 'derived', 'base'])
    // A sync handler that throws still rejects, and an unknown type stays an error after a known one was cached.
    class Throws extends AsyncConsumer {
      boom_now(): void {
        throw new Error('boom')
      }
    }
    await expect(new Throws().dispatch({ type: 'boom.now' })).rejects.toThrow('boom')
    await expect(new Derived().dispatch({ type: 'item.removed' })).rejects.toBeInstanceOf(UnknownMessageTypeError)
  })

  it('type-checks handler sets declared with Handlers<Union>', () => {
    type RoomEvent = { type: 'chat.message'; text: string } | { type: 'user.joined.room'; userId: number }
    class Room extends WebsocketConsumer implements Handlers<RoomEvent> {
      seen: (string | number)[] = []
      chat_message(event: Extract<RoomEvent, { type: 'chat.message' }>): void {
        this.seen.push(event.text)
      }
      user_joined_room(event: Extract<RoomEvent, { type: 'user.joined.room' }>): void {
        this.seen.push(event.userId)
      }
    }
    const room = new Room()
    room.chat_message({ type: 'chat.message', text: 'hi' })
    room.user_joined_room({ type: 'user.joined.room', userId: 3 })
    expect(room.seen).toEqual(['hi', 3])
  })
})

describe('handler concurrency', () => {
  class Slow extends WebsocketConsumer {
    static active = 0
    static peak = 0
    static channel = ''

    override async connect(): Promise<void> {
      Slow.channel = this.channelName
      await this.accept()
    }

    async work_item(): Promise<void> {
      Slow.active++
      Slow.peak = Math.max(Slow.peak, Slow.active)
      await new Promise((resolve) => setTimeout(resolve, 30))
      Slow.active--
      await this.send({ text: 'done' })
    }
  }

  async function peakFor(Consumer: typeof Slow): Promise<number> {
    Slow.peak = 0
    const layer = new InMemoryChannelLayer()
    const communicator = new WebsocketCommunicator(Consumer.asApp(), '/', { layer })
    await communicator.connect()
    for (let i = 0; i < 6; i++) await layer.send(Slow.channel, { type: 'work.item' })
    for (let i = 0; i < 6; i++) expect(await communicator.receiveFrom()).toBe('done')
    await communicator.disconnect()
    return Slow.peak
  }

  it('runs handlers one at a time by default', async () => {
    expect(await peakFor(Slow)).toBe(1)
  })

  it('runs up to static concurrency layer messages at once', async () => {
    class Parallel extends Slow {
      static override concurrency = 3
    }
    expect(await peakFor(Parallel)).toBe(3)
  })

  it('finds each class its own handler when classes and types alternate, the last one remembered or not', () => {
    class First {
      chat_message(): string {
        return 'first'
      }
    }
    class Second extends First {
      override chat_message(): string {
        return 'second'
      }
      user_joined(): string {
        return 'joined'
      }
    }
    const first = new First()
    const second = new Second()
    const call = (consumer: object, type: string): unknown =>
      (findHandler(consumer, type) as () => unknown).call(consumer)
    for (let round = 0; round < 3; round++) {
      expect(call(first, 'chat.message')).toBe('first')
      expect(call(first, 'chat.message')).toBe('first')
      expect(call(second, 'chat.message')).toBe('second')
      expect(call(second, 'user.joined')).toBe('joined')
      // Right after a remembered handler of another type, an unknown one still throws for this class.
      expect(() => findHandler(first, 'user.joined')).toThrow(UnknownMessageTypeError)
    }
  })
})
