import { expect, it } from 'vitest'

import {
  AllowedHostsOriginValidator,
  InMemoryChannelLayer,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  URLRouter,
  route,
} from '../../src/index.js'
import { WebsocketCommunicator } from '../../src/testing/index.js'

// The README's "chat consumer in five minutes", verbatim but for the imports.
type RoomEvent = { type: 'chat.message'; text: string }

class ChatConsumer extends JsonWebsocketConsumer<{ text: string }> {
  room = ''

  override async connect() {
    this.room = `chat.${String(this.scope.urlRoute?.kwargs.room)}`
    await this.channelLayer.groupAdd(this.room, this.channelName)
    await this.accept()
  }

  override async receiveJson(content: { text: string }) {
    await this.channelLayer.groupSend(this.room, { type: 'chat.message', text: content.text })
  }

  async chat_message(event: RoomEvent) {
    await this.sendJson(event)
  }
}

const application = ProtocolTypeRouter({
  websocket: AllowedHostsOriginValidator(URLRouter([route('/ws/chat/:room/', ChatConsumer.asApp())])),
})

it('the README chat example works as the Testing section shows', async () => {
  const layer = new InMemoryChannelLayer()
  const headers = { origin: 'http://localhost', host: 'localhost' }
  const chat = new WebsocketCommunicator(application, '/ws/chat/lobby/', { layer, headers })
  const other = new WebsocketCommunicator(application, '/ws/chat/lobby/', { layer, headers })
  expect(await chat.connect()).toMatchObject({ connected: true, subprotocol: null })
  await other.connect()
  await chat.sendJsonTo({ text: 'hi' })
  expect(await chat.receiveJsonFrom({ timeoutMs: 1000 })).toEqual({ type: 'chat.message', text: 'hi' })
  expect(await other.receiveJsonFrom({ timeoutMs: 1000 })).toEqual({ type: 'chat.message', text: 'hi' })
  expect(await chat.receiveNothing({ timeoutMs: 100 })).toBe(true)
  await chat.disconnect()
  await other.disconnect()
  const foreign = new WebsocketCommunicator(application, '/ws/chat/lobby/', {
    layer,
    headers: { origin: 'http://evil.example', host: 'localhost' },
  })
  expect(await foreign.connect()).toEqual({ connected: false, code: 1000 })
})
