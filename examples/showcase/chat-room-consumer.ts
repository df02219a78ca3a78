import { JsonWebsocketConsumer, type Handlers, type Receive, type Scope, type Send } from 'switchyard-channels'
import { asRecord } from './json-io.js'

/** What the browser sends, checked field by field: join (or rename) first, then messages. */
export type ChatCommand =
  { readonly type: 'chat.join'; readonly name: string } | { readonly type: 'chat.message'; readonly text: string }

/** What the browser receives. */
export type ChatUpdate =
  | { readonly type: 'chat.message'; readonly name: string; readonly text: string; readonly at: number }
  | { readonly type: 'presence.list'; readonly names: readonly string[] }
  | { readonly type: 'chat.error'; readonly error: string }

/**
 * What travels between connections, through the room's group or straight to one connection's channel. Presence
 * needs no shared store, so it works the same on one process or many on Redis: a connection that joins announces
 * itself to the room (`reply: true` asks the others to answer), each member answers with `presence.here` sent to
 * the newcomer's own channel, and a connection that leaves says so. Every member re-announces itself every
 * `PRESENCE_REFRESH_MS` (`reply: false`), and a member not heard from for three rounds is dropped, so a crashed
 * process's connections disappear from the list too.
 */
export type RoomEvent =
  | { readonly type: 'chat.message'; readonly name: string; readonly text: string; readonly at: number }
  | { readonly type: 'presence.join'; readonly channel: string; readonly name: string; readonly reply: boolean }
  | { readonly type: 'presence.here'; readonly channel: string; readonly name: string }
  | { readonly type: 'presence.leave'; readonly channel: string }

/** How often each member re-announces itself; members silent for three rounds are dropped. */
export const PRESENCE_REFRESH_MS = 20_000

const ROOM = /^[A-Za-z0-9_-]{1,40}$/
const MAX_TEXT = 2000
const MAX_NAME = 40

/**
 * A chat room with who-is-online: `/ws/chat/:room/` joins the group `chat.<room>`; the browser sends
 * `{ type: 'chat.join', name }` (again to rename) and `{ type: 'chat.message', text }`, and receives
 * `chat.message`, `presence.list` (every name online, sorted) and `chat.error`.
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
  /** Everyone in the room who joined, by channel (a person with two tabs is two members with one name). */
  private readonly members = new Map<string, { name: string; seenAt: number }>()

  override async connect(): Promise<void> {
    const room = this.scope.urlRoute?.kwargs.room
    if (typeof room !== 'string' || !ROOM.test(room)) {
      await this.close() // before accept: the handshake is refused with HTTP 403
      return
    }
    this.roomGroup = `chat.${room}`
    await this.channelLayer.groupAdd(this.roomGroup, this.channelName)
    await this.accept()
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

  /** Runs the connection; however it ends (a close, a crash, a shutdown), the room hears that this member left. */
  override async run(scope: Scope, receive: Receive, send: Send): Promise<void> {
    try {
      await super.run(scope, receive, send)
    } finally {
      await this.leaveRoom()
    }
  }

  async chat_message(event: Extract<RoomEvent, { type: 'chat.message' }>): Promise<void> {
    await this.sendJson({ type: 'chat.message', name: event.name, text: event.text, at: event.at })
  }

  async presence_join(event: Extract<RoomEvent, { type: 'presence.join' }>): Promise<void> {
    if (event.reply && event.channel !== this.channelName && this.name !== undefined) {
      await this.channelLayer.send(event.channel, {
        type: 'presence.here',
        channel: this.channelName,
        name: this.name,
      })
    }
    await this.see(event.channel, event.name)
  }

  async presence_here(event: Extract<RoomEvent, { type: 'presence.here' }>): Promise<void> {
    await this.see(event.channel, event.name)
  }

  async presence_leave(event: Extract<RoomEvent, { type: 'presence.leave' }>): Promise<void> {
    if (this.members.delete(event.channel)) await this.sendPresence()
  }

  /** Re-announces this member and forgets members silent for three rounds; called by the shared clock. */
  async refresh(now: number): Promise<void> {
    if (this.name === undefined) return
    await this.announce(false)
    let dropped = false
    for (const [channel, member] of this.members) {
      if (channel !== this.channelName && now - member.seenAt > 3 * PRESENCE_REFRESH_MS) {
        this.members.delete(channel)
        dropped = true
      }
    }
    if (dropped) await this.sendPresence()
  }

  private async join(rawName: unknown): Promise<void> {
    const name = typeof rawName === 'string' ? rawName.trim() : ''
    if (name === '' || name.length > MAX_NAME) {
      await this.sendJson({ type: 'chat.error', error: `a name is 1-${MAX_NAME} characters` })
      return
    }
    const first = this.name === undefined
    this.name = name
    presenceClock.add(this)
    // Only a newcomer asks the room who is there; a rename just tells everyone.
    await this.announce(first)
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

  private async leaveRoom(): Promise<void> {
    presenceClock.remove(this)
    if (this.name === undefined) return
    this.name = undefined
    try {
      // The group is already left; anyone may still send to it.
      await this.channelLayer.groupSend(this.roomGroup, { type: 'presence.leave', channel: this.channelName })
    } catch (err) {
      this.log.warn({ err }, 'could not announce a member leaving; the others drop it after three silent rounds')
    }
  }

  private async announce(reply: boolean): Promise<void> {
    if (this.name === undefined) return
    await this.channelLayer.groupSend(this.roomGroup, {
      type: 'presence.join',
      channel: this.channelName,
      name: this.name,
      reply,
    })
  }

  private async see(channel: string, name: string): Promise<void> {
    const known = this.members.get(channel)
    this.members.set(channel, { name, seenAt: Date.now() })
    if (known?.name !== name) await this.sendPresence()
  }

  private async sendPresence(): Promise<void> {
    const names = [...new Set([...this.members.values()].map((member) => member.name))]
    await this.sendJson({ type: 'presence.list', names: names.sort((a, b) => a.localeCompare(b)) })
  }
}

/** One timer for every chat connection in the process (not one per socket), running only while someone is in. */
class PresenceClock {
  private readonly live = new Set<ChatRoomConsumer>()
  private timer: NodeJS.Timeout | undefined

  add(consumer: ChatRoomConsumer): void {
    this.live.add(consumer)
    this.timer ??= setInterval(() => {
      this.tick()
    }, PRESENCE_REFRESH_MS).unref()
  }

  remove(consumer: ChatRoomConsumer): void {
    this.live.delete(consumer)
    if (this.live.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  private tick(): void {
    const now = Date.now()
    for (const consumer of this.live) {
      consumer.refresh(now).catch((err: unknown) => {
        consumer.log.warn({ err }, 'presence refresh failed')
      })
    }
  }
}

const presenceClock = new PresenceClock()
