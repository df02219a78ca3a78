import type { Application, Headers, HttpScope } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import { ApplicationCommunicator } from './application-communicator.js'
import { expectEventType } from './expect-event.js'
import type { TimeoutOptions } from './layer-receive.js'
import { httpScope, type TestScopeOptions } from './test-scopes.js'

export interface HttpCommunicatorOptions extends TestScopeOptions {
  /** The request body, sent as one `http.request`; strings are UTF-8 encoded. @defaultValue empty */
  readonly body?: Uint8Array | string
}

/** A complete response: the start event's status and headers, and every body chunk joined. */
export interface HttpResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: Uint8Array
  /** The body decoded as UTF-8. */
  text(): string
  /** The body parsed as JSON. */
  json(): unknown
}

/**
 * Tests an HTTP application without a socket, like Channels' `HttpCommunicator`: one request, one complete
 * response. For a streaming response (server-sent events, long polling) read the events one by one with
 * `receiveOutput`, or use an `ApplicationCommunicator` with `httpScope`.
 *
 * @example
 * ```ts
 * const communicator = new HttpCommunicator(app, 'POST', '/api/messages/', { body: JSON.stringify({ text: 'hi' }) })
 * const response = await communicator.getResponse()
 * expect(response.status).toBe(201)
 * expect(response.json()).toEqual({ id: 1 })
 * ```
 */
export class HttpCommunicator extends ApplicationCommunicator<HttpScope> {
  readonly #body: Uint8Array
  #requestSent = false

  constructor(app: Application, method: string, path: string, options: HttpCommunicatorOptions = {}) {
    super(app, httpScope(method, path, options))
    const body: unknown = options.body ?? new Uint8Array()
    if (typeof body === 'string') this.#body = new TextEncoder().encode(body)
    else if (body instanceof Uint8Array) this.#body = body
    else throw new InvalidOptionError('body', 'a Uint8Array or a string', body)
  }

  /**
   * Sends the request (on the first call) and collects the response: `http.response.start`, then
   * `http.response.body` chunks until one has no `moreBody: true`. `timeoutMs` (default 1000) applies to each
   * event.
   */
  async getResponse({ timeoutMs = 1000 }: TimeoutOptions = {}): Promise<HttpResponse> {
    if (!this.#requestSent) {
      this.#requestSent = true
      await this.sendInput({ type: 'http.request', body: this.#body, moreBody: false })
    }
    const start = await this.receiveOutputExpecting('http.response.start', timeoutMs)
    expectEventType(start, 'http.response.start')
    const chunks: Uint8Array[] = []
    for (;;) {
      const event = await this.receiveOutputExpecting('http.response.body', timeoutMs)
      expectEventType(event, 'http.response.body')
      if (event.body !== undefined) chunks.push(event.body)
      if (event.moreBody !== true) break
    }
    return httpResponse(start.status, start.headers ?? [], concat(chunks))
  }
}

function httpResponse(status: number, headers: Headers, body: Uint8Array): HttpResponse {
  return Object.freeze({
    status,
    headers,
    body,
    text: () => new TextDecoder().decode(body),
    json: (): unknown => JSON.parse(new TextDecoder().decode(body)),
  })
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.byteLength, 0))
  let offset = 0
  for (const chunk of chunks) {
    joined.set(chunk, offset)
    offset += chunk.byteLength
  }
  return joined
}
