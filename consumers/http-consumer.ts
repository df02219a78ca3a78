import type { Headers, HttpDisconnectEvent, HttpRequestEvent } from '../src/application.js'
import { BodyTooLargeError } from '../src/errors.js'
import { AsyncConsumer } from './async-consumer.js'
import { StopConsumer } from '../src/control.js'

export interface ResponseOptions {
  readonly status?: number
  /**
   * Response headers: `[name, value]` pairs are sent as given; an object's names are lower-cased
   * (`{ 'Content-Type': 'text/plain' }` sends `content-type`), where Channels keeps the case given. HTTP header
   * names are case-insensitive, and HTTP/2 requires lower case.
   */
  readonly headers?: Headers | Readonly<Record<string, string>>
}

/** One server-sent event. `data` that is not a string is sent as JSON. */
export interface ServerSentEvent {
  readonly data: unknown
  readonly event?: string
  readonly id?: string
  /** Reconnection delay the browser should use, in milliseconds. */
  readonly retryMs?: number
}

const encoder = new TextEncoder()

/**
 * An HTTP consumer, ported from Channels' `AsyncHttpConsumer`: override `handle(body)` and answer with
 * `sendResponse`, or stream with `sendHeaders` + `sendBody(chunk, { moreBody: true })`.
 *
 * Unlike Channels, the consumer keeps running after `handle` returns until the response is finished or the
 * client goes away, so long-poll and server-sent events work: handlers for layer messages can keep writing.
 * Exceptions in `handle` surface (HTTP 500 and a log line), never a hung request.
 *
 * @example
 * ```ts
 * class Progress extends HttpConsumer {
 *   async handle() {
 *     await this.startEventStream()
 *     await this.channelLayer.groupAdd(`job.${String(this.scope.urlRoute?.kwargs.id)}`, this.channelName)
 *   }
 *   async job_progress(event: { type: 'job.progress'; percent: number }) {
 *     await this.sendEvent({ event: 'progress', data: { percent: event.percent } })
 *     if (event.percent === 100) await this.endEventStream()
 *   }
 * }
 * ```
 */
export class HttpConsumer extends AsyncConsumer {
  /** Request bodies over this many bytes get HTTP 413. */
  static maxBodyBytes = 1_048_576

  private readonly chunks: Uint8Array[] = []
  private bodyBytes = 0
  private response: 'none' | 'started' | 'finished' = 'none'

  async http_request(event: HttpRequestEvent): Promise<void> {
    const limit = (this.constructor as typeof HttpConsumer).maxBodyBytes
    this.bodyBytes += event.body.byteLength
    if (this.bodyBytes > limit) {
      const err = new BodyTooLargeError(`Request body over ${limit} bytes`)
      this.log.warn({ code: err.code, limit }, 'request body too large')
      await this.sendResponse(413, 'Request body too large', { headers: { 'content-type': 'text/plain' } })
      return
    }
    this.chunks.push(event.body)
    if (event.moreBody === true) return
    const body = Buffer.concat(this.chunks)
    this.chunks.length = 0
    await this.handle(body)
  }

  async http_disconnect(_event: HttpDisconnectEvent): Promise<void> {
    await this.disconnect()
    throw new StopConsumer()
  }

  /** Handles the request once its whole body has arrived. */
  async handle(_body: Uint8Array): Promise<void> {
    throw new Error(`${this.constructor.name} must implement handle(body)`)
  }

  /** Called when the client goes away before the response finished. */
  async disconnect(): Promise<void> {
    // Override me.
  }

  /** Starts the response. */
  async sendHeaders({ status = 200, headers = [] }: ResponseOptions = {}): Promise<void> {
    this.response = 'started'
    await this.baseSend({ type: 'http.response.start', status, headers: toHeaderPairs(headers) })
  }

  /** Sends a body chunk; without `moreBody` it finishes the response and the consumer. */
  async sendBody(body: Uint8Array | string, { moreBody = false }: { moreBody?: boolean } = {}): Promise<void> {
    await this.baseSend({
      type: 'http.response.body',
      body: typeof body === 'string' ? encoder.encode(body) : body,
      moreBody,
    })
    if (!moreBody) {
      this.response = 'finished'
      this.stop()
    }
  }

  /** Sends a whole response. */
  async sendResponse(
    status: number,
    body: Uint8Array | string,
    options: Omit<ResponseOptions, 'status'> = {},
  ): Promise<void> {
    await this.sendHeaders({ status, headers: options.headers ?? [] })
    await this.sendBody(body)
  }

  /** True between `sendHeaders` and the final `sendBody`. */
  get responseOpen(): boolean {
    return this.response === 'started'
  }

  /** Starts a `text/event-stream` response that stays open for `sendEvent`. */
  async startEventStream(headers: Headers = []): Promise<void> {
    await this.sendHeaders({
      status: 200,
      headers: [
        ['content-type', 'text/event-stream; charset=utf-8'],
        ['cache-control', 'no-cache'],
        // Reverse proxies (nginx) buffer responses by default, which would hold events back.
        ['x-accel-buffering', 'no'],
        ...headers,
      ],
    })
  }

  /** Sends one server-sent event. */
  async sendEvent(event: ServerSentEvent): Promise<void> {
    await this.sendBody(formatServerSentEvent(event), { moreBody: true })
  }

  /** Ends the event stream (and the consumer). */
  async endEventStream(): Promise<void> {
    await this.sendBody(new Uint8Array(0))
  }
}

/** The wire form of one server-sent event; newlines in fields cannot break the framing. */
export function formatServerSentEvent({ data, event, id, retryMs }: ServerSentEvent): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data)
  const oneLine = (value: string): string => value.replace(/[\r\n]+/g, ' ')
  let out = ''
  if (event !== undefined) out += `event: ${oneLine(event)}\n`
  if (id !== undefined) out += `id: ${oneLine(id)}\n`
  if (retryMs !== undefined) out += `retry: ${Math.max(0, Math.floor(retryMs))}\n`
  for (const line of text.split(/\r\n|\r|\n/)) out += `data: ${line}\n`
  return `${out}\n`
}

function toHeaderPairs(headers: Headers | Readonly<Record<string, string>>): Headers {
  if (Array.isArray(headers)) return headers as Headers
  return Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value] as const)
}
