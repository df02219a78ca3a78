import { describe, expect, it } from 'vitest'

import { InMemoryChannelLayer, JsonWebsocketConsumer } from '../../../src/index.js'
import { WebsocketCommunicator } from '../../../src/testing/index.js'

class JsonEcho extends JsonWebsocketConsumer {
  override async receiveJson(content: unknown): Promise<void> {
    await this.sendJson(content)
  }
}

describe('JsonWebsocketConsumer', () => {
  it('echoes JSON', async () => {
    const communicator = new WebsocketCommunicator(JsonEcho.asApp(), '/')
    await communicator.connect()
    await communicator.sendJsonTo({ hello: 'world', list: [1, 2.5, null] })
    expect(await communicator.receiveJsonFrom()).toEqual({ hello: 'world', list: [1, 2.5, null] })
    await communicator.disconnect()
  })

  it('closes with 1003 on a binary frame, without crashing', async () => {
    const communicator = new WebsocketCommunicator(JsonEcho.asApp(), '/')
    await communicator.connect()
    await communicator.sendTo({ bytes: new Uint8Array([1, 2]) })
    expect(await communicator.receiveOutput()).toMatchObject({ type: 'websocket.close', code: 1003 })
    await communicator.disconnect(1003)
  })

  it.each(['{not json', '', '{"a":'])('closes with 1007 on malformed JSON %j, without crashing', async (text) => {
    const communicator = new WebsocketCommunicator(JsonEcho.asApp(), '/')
    await communicator.connect()
    await communicator.sendInput({ type: 'websocket.receive', text })
    expect(await communicator.receiveOutput()).toMatchObject({ type: 'websocket.close', code: 1007 })
    await communicator.disconnect(1007)
  })

  it('uses overridden encodeJson and decodeJson', async () => {
    class Shouting extends JsonEcho {
      override async encodeJson(content: unknown): Promise<string> {
        return JSON.stringify(content).toUpperCase()
      }
      override async decodeJson(text: string): Promise<unknown> {
        return { wrapped: JSON.parse(text) as unknown }
      }
    }
    const communicator = new WebsocketCommunicator(Shouting.asApp(), '/')
    await communicator.connect()
    await communicator.sendJsonTo('hi')
    expect(await communicator.receiveFrom()).toBe('{"WRAPPED":"HI"}')
    await communicator.disconnect()
  })

  it('sends and closes with sendJson(content, { close: 4001 })', async () => {
    class Bye extends JsonWebsocketConsumer {
      override async receiveJson(): Promise<void> {
        await this.sendJson({ bye: true }, { close: 4001 })
      }
    }
    const communicator = new WebsocketCommunicator(Bye.asApp(), '/')
    await communicator.connect()
    await communicator.sendJsonTo({})
    expect(await communicator.receiveJsonFrom()).toEqual({ bye: true })
    expect(await communicator.receiveOutput()).toMatchObject({ type: 'websocket.close', code: 4001 })
    await communicator.disconnect(4001)
  })

  it('forwards the types in static forward as they are, under the communicator too, and handles the rest', async () => {
    class Feed extends JsonWebsocketConsumer {
      static override groups = ['feed']
      static override forward = ['feed.item', 'feed.removed']

      async feed_reset(): Promise<void> {
        await this.sendJson({ reset: true })
      }
    }
    const layer = new InMemoryChannelLayer()
    const communicator = new WebsocketCommunicator(Feed.asApp(), '/', { layer })
    await communicator.connect()
    await layer.groupSend('feed', { type: 'feed.item', id: 1, tags: ['x'] })
    await layer.groupSend('feed', { type: 'feed.reset' })
    await layer.groupSend('feed', { type: 'feed.removed', id: 1 })
    expect(await communicator.receiveJsonFrom()).toEqual({ type: 'feed.item', id: 1, tags: ['x'] })
    expect(await communicator.receiveJsonFrom()).toEqual({ reset: true })
    expect(await communicator.receiveJsonFrom()).toEqual({ type: 'feed.removed', id: 1 })
    await communicator.disconnect()
  })
})
