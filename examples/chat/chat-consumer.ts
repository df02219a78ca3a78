import { JsonWebsocketConsumer, type Handlers } from 'switchyard-channels'

/** What the browser sends. */
export interface ChatInput {
  readonly name?: unknown
  readonly text?: unknown
}

/** What the browser receives. */
export type ChatOutput =
  | { readonly kind: 'message'; readonly name: string; readonly text: string; readonly at: number }
  | { readonly kind: 'error'; readonly error: string }

/** Messages this consumer takes from its room group. */
export type RoomEvent = {
  readonly type: 'chat.message'
  readonly name: string
  readonly text: string
  readonly at: number
}

const ROOM = /^[A-Za-z0-9_-]{1,40}$/
const MAX_TEXT = 2000
const MAX_NAME = 40

/**
 * One chat connection: joins the room's group on connect, relays what the browser types to everyone in the
 * room, and forwards the room's messages to the browser. The group is left automatically on disconnect.
 */
export class ChatConsumer extends JsonWebsocketConsumer<ChatInput, ChatOutput> implements Handlers<RoomEvent> {
  private roomGroup = ''

  override async connect(): Promise<void> {
    const room = this.scope.urlRoute?.kwargs.room
    if (typeof room !== 'string' || !ROOM.test(room)) {
      await this.close() // before accept: the handshake is rejected with HTTP 403
      return
    }
    this.roomGroup = `chat.${room}`
    await this.channelLayer.groupAdd(this.roomGroup, this.channelName)
    await this.accept()
  }

  override async receiveJson(content: ChatInput): Promise<void> {
    const text = typeof content.text === 'string' ? content.text.trim() : ''
    const name = typeof content.name === 'string' && content.name.trim() !== '' ? content.name.trim() : 'anonymous'
    if (text === '' || text.length > MAX_TEXT || name.length > MAX_NAME) {
      await this.sendJson({ kind: 'error', error: `text must be 1-${MAX_TEXT} characters, name at most ${MAX_NAME}` })
      return
    }
    await this.channelLayer.groupSend(this.roomGroup, { type: 'chat.message', name, text, at: Date.now() })
  }

  async chat_message(event: RoomEvent): Promise<void> {
    await this.sendJson({ kind: 'message', name: event.name, text: event.text, at: event.at })
  }
}
