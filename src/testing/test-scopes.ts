import { randomUUID } from 'node:crypto'

import type { Headers, HttpScope, WebsocketScope } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import type { Logger } from '../logger.js'
import { parseRequestTarget } from './request-target.js'

/** Request headers as `[name, value]` pairs (a name may repeat) or an object; names are lower-cased. */
export type HeaderInput = Headers | Readonly<Record<string, string>>

export interface TestScopeOptions {
  /** Request headers. @defaultValue `[]` */
  readonly headers?: HeaderInput
  /** Becomes `scope.channelLayer`, which consumers see as `this.channelLayer`. @defaultValue none */
  readonly layer?: ChannelLayer
  /** Becomes `scope.logger`. @defaultValue none */
  readonly logger?: Logger
  /**
   * Extra scope fields, as middleware or the server would have set them (`user`, `cookies`, `client`...). The
   * fields the communicator builds (`type`, `path`, `headers`...) take precedence. @defaultValue `{}`
   */
  readonly scope?: Readonly<Record<string, unknown>>
}

export interface WebsocketScopeOptions extends TestScopeOptions {
  /** The subprotocols the client offers, in its order. @defaultValue `[]` */
  readonly subprotocols?: readonly string[]
}

/**
 * The (frozen) scope a server would build for a WebSocket handshake to `path` (a path, or a full URL of which only the path
 * and query are used). `WebsocketCommunicator` uses it; build one yourself for an `ApplicationCommunicator`.
 *
 * @example
 * ```ts
 * const scope = websocketScope('/ws/chat/lobby/?token=abc', { headers: { origin: 'https://example.com' } })
 * scope.path // '/ws/chat/lobby/'
 * scope.queryString // 'token=abc'
 * ```
 */
export function websocketScope(path: string, options: WebsocketScopeOptions = {}): WebsocketScope {
  const subprotocols = options.subprotocols ?? []
  if (!Array.isArray(subprotocols) || !subprotocols.every((name) => typeof name === 'string')) {
    throw new InvalidOptionError('subprotocols', 'an array of strings', subprotocols)
  }
  return Object.freeze({
    ...options.scope,
    ...connectionFields(path, options),
    type: 'websocket',
    subprotocols: Object.freeze([...subprotocols]),
  })
}

/**
 * The scope a server would build for an HTTP request (HTTP/1.1, method upper-cased). `HttpCommunicator` uses it;
 * build one yourself to drive a streaming response (server-sent events) with an `ApplicationCommunicator`.
 *
 * @example
 * ```ts
 * const communicator = new ApplicationCommunicator(app, httpScope('GET', '/events/'))
 * ```
 */
export function httpScope(method: string, path: string, options: TestScopeOptions = {}): HttpScope {
  const raw: unknown = method
  if (typeof raw !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(raw)) {
    throw new InvalidOptionError('method', 'an HTTP method such as "GET"', raw)
  }
  return Object.freeze({
    ...options.scope,
    ...connectionFields(path, options),
    type: 'http',
    method: raw.toUpperCase(),
    httpVersion: '1.1',
  })
}

function connectionFields(target: string, options: TestScopeOptions) {
  const { path, queryString } = parseRequestTarget(target)
  return {
    path,
    queryString,
    headers: normalizeHeaders(options.headers ?? []),
    connectionId: randomUUID(),
    ...(options.layer === undefined ? {} : { channelLayer: options.layer }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  }
}

function normalizeHeaders(input: HeaderInput): Headers {
  const pairs: readonly (readonly [string, string])[] = Array.isArray(input)
    ? (input as Headers)
    : Object.entries(input as Readonly<Record<string, string>>)
  const headers = pairs.map(([name, value], index) => {
    const rawName: unknown = name
    const rawValue: unknown = value
    if (typeof rawName !== 'string' || typeof rawValue !== 'string') {
      throw new InvalidOptionError(`headers[${index}]`, 'a [name, value] pair of strings', [rawName, rawValue])
    }
    return Object.freeze([name.toLowerCase(), value] as const)
  })
  return Object.freeze(headers)
}
