import { InvalidJsonError, UnsupportedFrameError } from '../src/errors.js'
import type { WebsocketConnectEvent } from '../src/application.js'
import { reportClientError, consumerMessagesObserved, reportConsumerMessageIn } from '../src/diagnostics.js'
import { forwardedTypes } from '../src/consumer-runtime/forwarded-types.js'
import { jsonText } from '../src/consumer-runtime/json-text.js'
import type { Message } from '../src/layers/channel-layer.js'
import { WebsocketConsumer, type SendOptions, type WebsocketData } from './websocket-consumer.js'

/**
 * Close code for a text frame that is not valid JSON, or not an object (RFC 6455: inconsistent data); the same as
 * `InvalidJsonError.closeCode`.
 */
export { CLOSE_INVALID_PAYLOAD } from '../src/protocol/close-codes.js'
/** Close code for a binary frame sent to a JSON consumer (RFC 6455: unsupported data): `UnsupportedFrameError`'s. */
export { CLOSE_UNSUPPORTED_DATA } from '../src/protocol/close-codes.js'

/**
 * A WebSocket consumer that speaks JSON text frames: override `receiveJson`, reply with `sendJson`. A binary
 * frame closes the socket with 1003; malformed JSON, and JSON that is not an object (`null`, `"text"`, `[1]`:
 * unless `static jsonObjectsOnly = false`), with 1007. Each is logged at info level (without the payload) and
 * counted (`client_errors_total`): a misbehaving client is not a server error. Override `encodeJson`/`decodeJson`
 * to change the codec (either may be `async`).
 *
 * Forwarding a layer message as it is (`sendJson(event)`) encodes it once however many members forward it: the
 * layer hands every member the same deeply frozen object, and the default codec keeps its text. It also keeps the
 * message's `__position__` (in a group with history), which the browser client hands back on reconnect to recover
 * what it missed (`joinGroup(group, { recover: true })`); content built anew should carry it on:
 * `sendJson({ type: 'chat.line', text: event.text, __position__: positionOf(event) })`.
 *
 * @example
 * ```ts
 * type ChatIn = { text: string }
 * class Chat extends JsonWebsocketConsumer<ChatIn> {
 *   async receiveJson(content: ChatIn) { await this.sendJson({ echo: content.text }) }
 * }
 * ```
 */
export class JsonWebsocketConsumer<In = unknown, Out = unknown> extends WebsocketConsumer {
  /**
   * Whether only JSON objects reach `receiveJson` (anything else closes with 1007): handlers read fields, and
   * `null.text` would crash them. Set it to false to take any JSON value, as Channels does.
   */
  static jsonObjectsOnly = true

  /**
   * Layer message types sent to the client as they are, as JSON, with no handler: `static forward =
   * ['chat.message']` does what `async chat_message(event) { await this.sendJson(event) }` does, in order with the
   * messages handlers take, and costs a group's members much less (no handler, promise or turn per member).
   * Each type must be namespaced, must not also have a handler method, and is checked when the class first
   * connects (`InvalidOptionError`, the handshake refused).
   */
  static forward: readonly string[] = []

  override async websocket_connect(event: WebsocketConnectEvent): Promise<void> {
    // A class's mistake in `forward` refuses its first handshake, not its first group message.
    forwardedTypes(this.constructor as typeof JsonWebsocketConsumer)
    await super.websocket_connect(event)
  }

  protected override forwardLayerMessage(message: Message): Promise<void> | undefined {
    if (!forwardedTypes(this.constructor as typeof JsonWebsocketConsumer).has(message.type)) return undefined
    if (consumerMessagesObserved()) reportConsumerMessageIn(this.label)
    return this.sendJson(message as Out)
  }

  override receive(data: WebsocketData): Promise<void> {
    if (!('text' in data)) {
      const err = new UnsupportedFrameError('This endpoint takes JSON text frames; a binary frame was received')
      reportClientError(this.label, err.code)
      this.log.info({ code: err.code, bytes: data.bytes.byteLength }, 'binary frame on a JSON socket')
      return this.close(err.closeCode, 'JSON text frames only')
    }
    let decoded: In | Promise<In>
    try {
      decoded = this.decodeJson(data.text)
    } catch (cause) {
      return this.rejectMalformed(data.text, cause)
    }
    // Not `async` (once per frame): with the default codec, `receiveJson`'s promise is returned as it is.
    if (!isPromise(decoded)) return this.receiveDecoded(decoded)
    return decoded.then(
      (content) => this.receiveDecoded(content),
      (cause: unknown) => this.rejectMalformed(data.text, cause),
    )
  }

  private receiveDecoded(content: In): Promise<void> {
    const objectsOnly = (this.constructor as typeof JsonWebsocketConsumer).jsonObjectsOnly
    if (objectsOnly && (typeof content !== 'object' || content === null || Array.isArray(content))) {
      const kind = content === null ? 'null' : Array.isArray(content) ? 'an array' : typeof content
      const err = new InvalidJsonError(`A text frame holds ${kind}, not a JSON object`)
      return this.closeForClientData(err, 'JSON object expected', { received: kind })
    }
    return this.receiveJson(content)
  }

  private rejectMalformed(text: string, cause: unknown): Promise<void> {
    const err = new InvalidJsonError('A text frame is not valid JSON', { cause })
    return this.closeForClientData(err, 'malformed JSON', { length: text.length })
  }

  /** Called with each decoded JSON frame. The default ignores it. */
  async receiveJson(_content: In): Promise<void> {
    // Override me.
  }

  /**
   * Sends `content` as a JSON text frame, then optionally closes. Forwarding a group message keeps its
   * `__position__`, which the browser client needs to recover after a reconnect; see the class comment.
   */
  sendJson(content: Out, options?: SendOptions): Promise<void> {
    // Not `async`: with the default (synchronous) codec this is one call to `send`, not one more promise per frame.
    let encoded: string | Promise<string>
    try {
      encoded = this.encodeJson(content)
    } catch (error) {
      return Promise.reject(error)
    }
    if (isPromise(encoded)) return encoded.then((text) => this.send({ text }, options))
    return this.send({ text: encoded }, options)
  }

  /** The `switchyard.recovery` frame goes through `encodeJson`, as every frame this consumer sends. */
  protected override sendRecoveryNotice(notice: Message): Promise<void> {
    return this.sendJson(notice as Out)
  }

  /** Encodes outgoing content; deeply frozen content (a layer message) is encoded once and the text reused. */
  encodeJson(content: Out): string | Promise<string> {
    return jsonText(content)
  }

  /** Decodes an incoming text frame; throwing closes the socket with 1007. */
  decodeJson(text: string): In | Promise<In> {
    return JSON.parse(text) as In
  }
}

// The default codec is synchronous: no promise per frame unless an override is async.
function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise
}
