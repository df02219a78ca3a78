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

export interface SendOptions {
  /** Close after sending: `true` closes with 1000, a number closes with that code. */
  readonly close?: boolean | number
}

/**
 * A WebSocket consumer, ported from Channels' `AsyncWebsocketConsumer`. Override `connect`, `receive` and
 * `disconnect`; reply with `send`. Groups in `static groups` are joined before `connect()` and left on
 * disconnect, and so are groups joined inside `connect()` through `this.channelLayer.groupAdd`.
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

  /** Set by `close()`: what the client still sends is dropped, and sends do nothing. */
  private closing = false

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
  }

  /** Closes the socket (default code 1000); before `accept()` it rejects the handshake with HTTP 403. */
  async close(code?: number, reason?: string): Promise<void> {
    if (this.closing) return
    this.closing = true
    await this.baseSend({
      type: 'websocket.close',
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined && reason !== '' ? { reason } : {}),
    })
  }

  websocket_receive(event: WebsocketReceiveEvent): Promise<void> {
    // Frames that arrived behind our close: the connection is over for them.
    if (this.closing) return Promise.resolve()
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
    if (this.closing) return Promise.resolve()
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
