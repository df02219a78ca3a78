import type {
  Headers,
  WebsocketConnectEvent,
  WebsocketDisconnectEvent,
  WebsocketReceiveEvent,
} from '../src/application.js'
import { InvalidEventError } from '../src/errors.js'
import { reportClientError } from '../src/diagnostics.js'
import { AsyncConsumer, type ConsumerMessage } from './async-consumer.js'
import { AcceptConnection, DenyConnection, StopConsumer } from '../src/control.js'
import { CLOSE_INVALID_PAYLOAD, type CloseCode } from '../src/protocol/close-codes.js'
import type { Message } from '../src/layers/channel-layer.js'
import {
  deferNotice,
  joinGroupAs,
  takeDeferredNotices,
  type JoinGroupOptions,
  type JoinGroupResult,
} from '../src/consumer-runtime/join-group.js'

/** Close code for data a client sent that the application could not use (RFC 6455: inconsistent data). */
export { CLOSE_INVALID_PAYLOAD }

/**
 * Codes of errors that, thrown while handling a client's frame, mean its data could not be used (a field the
 * application passed on was undefined, too large, not a message): the client's fault, not the server's.
 */
const CLIENT_DATA_CODES: ReadonlySet<string> = new Set([
  'SWY_INVALID_JSON',
  'SWY_INVALID_MESSAGE',
  'SWY_MESSAGE_NOT_SERIALIZABLE',
  'SWY_MESSAGE_TOO_LARGE',
])

/**
 * What `closeForClientData` reads from an error: its stable code and, for an error that closes a socket
 * (`InvalidJsonError`, `UnsupportedFrameError`), the close code it carries; without one it closes with 1007.
 */
export interface ClientDataError {
  readonly code: string
  readonly closeCode?: CloseCode
}

/** A frame's payload: text or binary. */
export type WebsocketData = { readonly text: string } | { readonly bytes: Uint8Array }

export interface AcceptOptions {
  /** One of the subprotocols the client offered (`this.scope.subprotocols`). */
  readonly subprotocol?: string | null
  /** Extra handshake response headers. */
  readonly headers?: Headers
}

export type { JoinGroupOptions, JoinGroupResult }

export interface SendOptions {
  /** Close after sending: `true` closes with 1000, a number closes with that code. */
  readonly close?: boolean | number
}

/** Where the socket is: `accept()` not sent yet, accepted, or closing (one field, not two flags, per connection). */
const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
type SocketPhase = typeof CONNECTING | typeof OPEN | typeof CLOSING

/**
 * A WebSocket consumer, ported from Channels' `AsyncWebsocketConsumer`. Override `connect`, `receive` and
 * `disconnect`; reply with `send`. Groups in `static groups` are joined before `connect()` and left on
 * disconnect, and so are groups joined inside `connect()` through `this.channelLayer.groupAdd` or `joinGroup`
 * (which also recovers what a reconnecting page missed and enters presence lists).
 *
 * Errors: thrown before `accept()` they reject the handshake with HTTP 500; after it, they close the socket
 * with 1011 and are logged with the consumer name and connection id. A misbehaving client is not a server error:
 * a coded data error thrown while handling its frame (`MessageNotSerializableError` for a field it left out,
 * `MessageTooLargeError`, ...) closes with 1007 and is logged at info level and counted (`client_errors_total`).
 * Once the consumer has closed the socket, frames still queued from the client are dropped, not dispatched, and
 * `send` does nothing (a group message may race the close).
 *
 * @example
 * ```ts
 * class Chat extends WebsocketConsumer {
 *   static groups = ['lobby']
 *   async receive(data: WebsocketData) {
 *     if ('text' in data) await this.channelLayer.groupSend('lobby', { type: 'chat.message', text: data.text })
 *   }
 *   async chat_message(event: { type: 'chat.message'; text: string }) {
 *     await this.send({ text: event.text })
 *   }
 * }
 * ```
 */
export class WebsocketConsumer extends AsyncConsumer {
  /** Groups every connection joins on connect and leaves on disconnect. */
  static groups: readonly string[] = []

  /** `CLOSING` once `close()` ran: what the client still sends is dropped, and sends do nothing. */
  private phase: SocketPhase = CONNECTING

  async websocket_connect(_event: WebsocketConnectEvent): Promise<void> {
    const groups = (this.constructor as typeof WebsocketConsumer).groups
    for (const group of groups) await this.channelLayer.groupAdd(group, this.channelName)
    try {
      await this.connect()
    } catch (error) {
      if (error instanceof AcceptConnection) await this.accept()
      else if (error instanceof DenyConnection) await this.close()
      else throw error
    }
  }

  /** Decides whether to accept the connection. The default accepts. */
  async connect(): Promise<void> {
    await this.accept()
  }

  /** Accepts the handshake, optionally choosing a subprotocol and adding response headers. */
  async accept(options: AcceptOptions = {}): Promise<void> {
    await this.baseSend({
      type: 'websocket.accept',
      subprotocol: options.subprotocol ?? null,
      ...(options.headers !== undefined && options.headers.length > 0 ? { headers: options.headers } : {}),
    })
    if (this.phase === CONNECTING) this.phase = OPEN
    // Groups joined with `recover` before the accept: the page hears how it went before any of their messages.
    for (const notice of takeDeferredNotices(this)) await this.sendRecoveryNotice(notice)
  }

  /**
   * Joins `group` with this connection's channel, left again on disconnect (as `static groups` are), and in one
   * call, as asked: recovers what the client missed in a history group, and enters the group's presence list.
   * Call it in `connect()`, before or after `accept()`, or later.
   *
   * With `recover: true` it takes the position the browser client (`switchyard-channels/client`) handed back for
   * this group when it reconnected (docs/topics/recovery-protocol.md): the messages the group sent since then reach
   * this consumer first, in order, then the live ones, and it resolves to `{ position, recovered: true }`. When they
   * are gone (history overflowed or expired), or the position handed back is malformed (untrusted input: it is
   * validated, logged at info level and ignored), it resolves to `recovered: false`: reload the page's state. On a
   * first connection nothing was handed back, and `recovered` is absent. Each time the page gets a
   * `switchyard.recovery` frame `{ group, recovered, __position__ }` before any message of the group (with the
   * default `static concurrency = 1`; with more, layer messages may be handled while `joinGroup` runs). Recovery
   * replays up to the group's history `size` messages to a client that asks: use it on groups whose recent
   * messages any member may read.
   *
   * For the page to hand positions back, forward group messages with their `__position__` (see
   * `JsonWebsocketConsumer.sendJson`). Join a group once per connection with `recover`; to change the presence
   * info later, call it again with `presence` only.
   *
   * Throws `HistoryNotEnabledError` for `recover` on a group without history, `PresenceNotEnabledError` for
   * `presence` on a group or layer without presence, and `PresenceFullError` when its presence list is full.
   *
   * @example
   * ```ts
   * class Room extends JsonWebsocketConsumer {
   *   async connect() {
   *     // The page gets { type: 'switchyard.recovery', group, recovered } first, then what it missed, if anything.
   *     const { recovered } = await this.joinGroup('chat.lobby', { recover: true, presence: { name: 'ada' } })
   *     await this.accept()
   *     if (recovered === false) this.log.info('the page reloads its state')
   *   }
   *   async chat_message(event: Message) {
   *     await this.sendJson(event) // as it is: with its __position__
   *   }
   * }
   * ```
   */
  async joinGroup(group: string, options: JoinGroupOptions = {}): Promise<JoinGroupResult> {
    const { queryString } = this.scope as { readonly queryString?: unknown }
    const query = typeof queryString === 'string' ? queryString : ''
    const joiner = { channelLayer: this.channelLayer, channelName: this.channelName, queryString: query }
    const { result, notice, invalid } = await joinGroupAs(joiner, group, options)
    if (invalid !== undefined) {
      reportClientError(this.label, invalid.code)
      this.log.info({ code: invalid.code, group }, 'ignored a malformed position handed back')
    }
    if (notice === undefined) return result
    if (this.phase === CONNECTING) deferNotice(this, notice)
    else await this.sendRecoveryNotice(notice)
    return result
  }

  /** Sends the page a `switchyard.recovery` frame, as JSON text; `JsonWebsocketConsumer` uses its own codec. */
  protected sendRecoveryNotice(notice: Message): Promise<void> {
    return this.send({ text: JSON.stringify(notice) })
  }

  /** Closes the socket (default code 1000); before `accept()` it rejects the handshake with HTTP 403. */
  async close(code?: number, reason?: string): Promise<void> {
    if (this.phase === CLOSING) return
    this.phase = CLOSING
    await this.baseSend({
      type: 'websocket.close',
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined && reason !== '' ? { reason } : {}),
    })
  }

  websocket_receive(event: WebsocketReceiveEvent): Promise<void> {
    // Frames that arrived behind our close: the connection is over for them.
    if (this.phase === CLOSING) return Promise.resolve()
    // Not `async` (once per frame): `receive`'s promise is returned as it is.
    // Text wins when both are set; `{ text: null, bytes }` (as some servers send) is binary.
    if (event.text !== undefined && event.text !== null) return this.receive({ text: event.text })
    if (event.bytes !== undefined && event.bytes !== null) return this.receive({ bytes: event.bytes })
    return Promise.reject(new InvalidEventError('websocket.receive carried neither text nor bytes'))
  }

  /** Called with each frame from the client. The default ignores it. */
  async receive(_data: WebsocketData): Promise<void> {
    // Override me.
  }

  /** Sends a text or binary frame, then optionally closes. */
  send(data: WebsocketData, options?: SendOptions): Promise<void> {
    // After our close there is nobody to send to: a group message racing the close is not an error.
    if (this.phase === CLOSING) return Promise.resolve()
    // Not `async`: a frame without `close` is one `baseSend`, not one more promise per frame.
    let sent: Promise<void>
    if ('text' in data) sent = this.baseSend({ type: 'websocket.send', text: data.text })
    else if ('bytes' in data) sent = this.baseSend({ type: 'websocket.send', bytes: data.bytes })
    else return Promise.reject(new InvalidEventError('send() needs { text } or { bytes }'))
    const close = options?.close
    if (close === true) return sent.then(() => this.close())
    if (typeof close === 'number') return sent.then(() => this.close(close))
    return sent
  }

  async websocket_disconnect(event: WebsocketDisconnectEvent): Promise<void> {
    try {
      await this.leaveGroups()
    } finally {
      await this.disconnect(event.code)
    }
    throw new StopConsumer()
  }

  /**
   * Closes over what the client sent, with the error's `closeCode` (1007 when it has none), logged at info level
   * with its `code` and counted: a misbehaving client is not a server error.
   */
  protected closeForClientData(
    error: ClientDataError,
    reason: string,
    fields: Readonly<Record<string, unknown>> = {},
  ): Promise<void> {
    const { code } = error
    reportClientError(this.label, code)
    this.log.info({ code, ...fields }, 'closed over client data')
    return this.close(error.closeCode ?? CLOSE_INVALID_PAYLOAD, reason)
  }

  /** A coded data error while handling a client frame closes with 1007; anything else is the server's (1011). */
  protected override async dispatchFailed(error: unknown, message: ConsumerMessage): Promise<void> {
    const code = error instanceof Error ? (error as { code?: unknown }).code : undefined
    if (message.type === 'websocket.receive' && typeof code === 'string' && CLIENT_DATA_CODES.has(code)) {
      await this.closeForClientData(error as ClientDataError, 'invalid data')
      return
    }
    await super.dispatchFailed(error, message)
  }

  /** Called once the socket has closed, with the close code. Groups are already left. */
  async disconnect(_code: number): Promise<void> {
    // Override me.
  }
}
