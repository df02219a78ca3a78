import {
  JsonWebsocketConsumer,
  positionOf,
  type Handlers,
  type HistoryOptions,
  type MessagePosition,
  type PresenceInfo,
} from 'switchyard-channels'
import { asRecord } from './json-io.js'

/** What the browser sends, checked field by field: join (or rename) first, then messages. */
export type ChatCommand =
  { readonly type: 'chat.join'; readonly name: string } | { readonly type: 'chat.message'; readonly text: string }

/** What the browser receives; each update from the room carries the room's `__position__`. */
export type ChatUpdate =
  | {
      readonly type: 'chat.message'
      readonly name: string
      readonly text: string
      readonly at: number
      readonly __position__?: MessagePosition
    }
  | { readonly type: 'presence.list'; readonly names: readonly string[]; readonly __position__?: MessagePosition }
  | { readonly type: 'chat.error'; readonly error: string }

/** What the room's group carries: chat messages, and the layer's presence events. */
export type RoomEvent =
  | { readonly type: 'chat.message'; readonly name: string; readonly text: string; readonly at: number }
  | { readonly type: 'presence.join'; readonly channel: string; readonly info: PresenceInfo }
  | { readonly type: 'presence.leave'; readonly channel: string }

/**
 * The layer options chat rooms need, on either layer: each room keeps its last 100 messages for 10 minutes (what a
 * page that was offline can recover) and has a presence list.
 */
export const CHAT_LAYER_OPTIONS: { readonly history: HistoryOptions; readonly presence: readonly string[] } = {
  history: { 'chat.*': { size: 100, ttlMs: 600_000 } },
  presence: ['chat.*'],
}

const ROOM = /^[A-Za-z0-9_-]{1,40}$/
const MAX_TEXT = 2000
const MAX_NAME = 40

/**
 * A chat room with who-is-online: `/ws/chat/:room/?name=<name>` joins the group `chat.<room>` with recovery and, with
 * a name, its presence list, in one `joinGroup`. The browser sends `{ type: 'chat.join', name }` to join without a
 * name in the URL, or to rename, and `{ type: 'chat.message', text }`; it receives `chat.message`, `presence.list`
 * (every name online, sorted) and `chat.error`, and `switchyard.recovery` when it connects: the browser client
 * hands back the room's last position on reconnect, and what it missed is replayed (or it is told to reload).
 *
 * @example
 * ```ts
 * URLRouter([route('/ws/chat/:room/', ChatRoomConsumer.asApp())])
 * ```
 */
export class ChatRoomConsumer extends JsonWebsocketConsumer<unknown, ChatUpdate> implements Handlers<RoomEvent> {
  /** It checks every frame itself and answers a bad one with `chat.error`, keeping the page connected. */
  static override jsonObjectsOnly = false
  private roomGroup = ''
  /** This connection's display name, once it joined. */
  private name: string | undefined

  override async connect(): Promise<void> {
    const room = this.scope.urlRoute?.kwargs.room
    if (typeof room !== 'string' || !ROOM.test(room)) {
      await this.close() // before accept: the handshake is refused with HTTP 403
      return
    }
    this.roomGroup = `chat.${room}`
    const name = validName(new URLSearchParams(this.queryString()).get('name'))
    // The group first, then accept: nothing sent to the room is missed, and the page hears how recovery went first.
    await this.joinGroup(this.roomGroup, { recover: true, ...(name === undefined ? {} : { presence: { name } }) })
    this.name = name
    await this.accept()
    await this.sendPresence()
  }

  override async receiveJson(content: unknown): Promise<void> {
    const command = asRecord(content)
    if (command?.type === 'chat.join') {
      await this.join(command.name)
    } else if (command?.type === 'chat.message') {
      await this.say(command.text)
    } else {
      await this.sendJson({ type: 'chat.error', error: 'send { type: "chat.join" } or { type: "chat.message" }' })
    }
  }

  /** Forwarded as it is: with its `__position__`, which the page's client hands back on reconnect. */
  async chat_message(event: Extract<RoomEvent, { type: 'chat.message' }>): Promise<void> {
    await this.sendJson(event)
  }

  async presence_join(event: Extract<RoomEvent, { type: 'presence.join' }>): Promise<void> {
    await this.sendPresence(positionOf(event))
  }

  async presence_leave(event: Extract<RoomEvent, { type: 'presence.leave' }>): Promise<void> {
    await this.sendPresence(positionOf(event))
  }

  private async join(rawName: unknown): Promise<void> {
    const name = validName(rawName)
    if (name === undefined) {
      await this.sendJson({ type: 'chat.error', error: `a name is 1-${MAX_NAME} characters` })
      return
    }
    if (name === this.name) return
    // Joining again replaces this member's presence info; the room hears `presence.join`.
    await this.joinGroup(this.roomGroup, { presence: { name } })
    this.name = name
  }

  private async say(rawText: unknown): Promise<void> {
    const text = typeof rawText === 'string' ? rawText.trim() : ''
    if (this.name === undefined) {
      await this.sendJson({ type: 'chat.error', error: 'join the room with a name first' })
    } else if (text === '' || text.length > MAX_TEXT) {
      await this.sendJson({ type: 'chat.error', error: `a message is 1-${MAX_TEXT} characters` })
    } else {
      await this.channelLayer.groupSend(this.roomGroup, { type: 'chat.message', name: this.name, text, at: Date.now() })
    }
  }

  /**
   * Sends the page every name online, from the layer's presence list (a person with two tabs is listed once), with
   * the position of the event that changed it, so the page's last position stays the room's latest.
   */
  private async sendPresence(position?: MessagePosition): Promise<void> {
    const entries = await this.channelLayer.presence.list(this.roomGroup)
    const names = [...new Set(entries.flatMap(({ info }) => (typeof info.name === 'string' ? [info.name] : [])))]
    names.sort((a, b) => a.localeCompare(b))
    await this.sendJson({ type: 'presence.list', names, ...(position === undefined ? {} : { __position__: position }) })
  }

  private queryString(): string {
    return this.scope.type === 'websocket' ? this.scope.queryString : ''
  }
}

function validName(raw: unknown): string | undefined {
  const name = typeof raw === 'string' ? raw.trim() : ''
  return name === '' || name.length > MAX_NAME ? undefined : name
}
