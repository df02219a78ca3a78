import { InvalidJsonError, UnsupportedFrameError } from '../src/errors.js'
import { WebsocketConsumer, type SendOptions, type WebsocketData } from './websocket-consumer.js'

/** Close code for a text frame that is not valid JSON (RFC 6455: inconsistent data). */
export const CLOSE_INVALID_PAYLOAD = 1007
/** Close code for a binary frame sent to a JSON consumer (RFC 6455: unsupported data). */
export const CLOSE_UNSUPPORTED_DATA = 1003

/**
 * A WebSocket consumer that speaks JSON text frames: override `receiveJson`, reply with `sendJson`. A binary
 * frame closes the socket with 1003 and malformed JSON with 1007; both are logged (without the payload) and
 * never crash the process. Override `encodeJson`/`decodeJson` to change the codec.
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
  override async receive(data: WebsocketData): Promise<void> {
    if (!('text' in data)) {
      const err = new UnsupportedFrameError('This endpoint takes JSON text frames; a binary frame was received')
      this.log.warn({ code: err.code, bytes: data.bytes.byteLength }, 'binary frame on a JSON socket')
      await this.close(CLOSE_UNSUPPORTED_DATA, 'JSON text frames only')
      return
    }
    let content: In
    try {
      content = await this.decodeJson(data.text)
    } catch (cause) {
      const err = new InvalidJsonError('A text frame is not valid JSON', { cause })
      this.log.warn({ code: err.code, length: data.text.length }, 'malformed JSON frame')
      await this.close(CLOSE_INVALID_PAYLOAD, 'malformed JSON')
      return
    }
    await this.receiveJson(content)
  }

  /** Called with each decoded JSON frame. The default ignores it. */
  async receiveJson(_content: In): Promise<void> {
    // Override me.
  }

  /** Sends `content` as a JSON text frame, then optionally closes. */
  async sendJson(content: Out, options: SendOptions = {}): Promise<void> {
    await this.send({ text: await this.encodeJson(content) }, options)
  }

  /** Encodes outgoing content. */
  async encodeJson(content: Out): Promise<string> {
    return JSON.stringify(content)
  }

  /** Decodes an incoming text frame; throwing closes the socket with 1007. */
  async decodeJson(text: string): Promise<In> {
    return JSON.parse(text) as In
  }
}
