import { decodePath } from '../protocol/decode-path.js'
import type { IncomingMessage } from 'node:http'

import type { Headers, HttpScope, WebsocketScope } from '../application.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import type { Logger } from '../logger.js'

/** What every scope built by the server carries besides the request itself. */
export interface ScopeContext {
  readonly connectionId: string
  readonly logger: Logger
  readonly layer: ChannelLayer | undefined
}

/**
 * The `websocket` scope for an upgrade request, as Daphne builds it: percent-decoded path, the still-encoded query
 * string, lower-cased header pairs in arrival order, the client's subprotocols in its order, client and server
 * addresses.
 *
 * @example
 * ```ts
 * const scope = websocketScope(request.raw, { connectionId, logger, layer })
 * scope.path // '/ws/chat/lobby/'
 * ```
 */
export function websocketScope(request: IncomingMessage, context: ScopeContext): WebsocketScope {
  const headers = headerPairs(request)
  const subprotocols: string[] = []
  for (const [name, value] of headers) {
    if (name !== 'sec-websocket-protocol') continue
    for (const protocol of value.split(',')) if (protocol.trim() !== '') subprotocols.push(protocol.trim())
  }
  return Object.freeze({ type: 'websocket', ...connectionFields(request, headers, context), subprotocols })
}

/**
 * The `http` scope for a request.
 *
 * @example
 * ```ts
 * const scope = httpScope(request.raw, { connectionId, logger, layer })
 * scope.method // 'POST'
 * ```
 */
export function httpScope(request: IncomingMessage, context: ScopeContext): HttpScope {
  return Object.freeze({
    type: 'http',
    ...connectionFields(request, headerPairs(request), context),
    method: (request.method ?? 'GET').toUpperCase(),
    httpVersion: request.httpVersion,
  })
}

function connectionFields(request: IncomingMessage, headers: Headers, context: ScopeContext) {
  const url = request.url ?? '/'
  const query = url.indexOf('?')
  const socket = request.socket
  return {
    path: decodePath(query === -1 ? url : url.slice(0, query)),
    queryString: query === -1 ? '' : url.slice(query + 1),
    headers,
    client: address(socket.remoteAddress, socket.remotePort),
    server: address(socket.localAddress, socket.localPort),
    connectionId: context.connectionId,
    logger: context.logger,
    ...(context.layer === undefined ? {} : { channelLayer: context.layer }),
  }
}

/** Lower-cased header pairs in arrival order; a repeated name stays repeated. */
export function headerPairs(request: IncomingMessage): Headers {
  const raw = request.rawHeaders
  const pairs: (readonly [string, string])[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    pairs.push(Object.freeze([(raw[i] ?? '').toLowerCase(), raw[i + 1] ?? ''] as const))
  }
  return Object.freeze(pairs)
}

function address(host: string | undefined, port: number | undefined): readonly [string, number] | undefined {
  return host === undefined || port === undefined ? undefined : Object.freeze([host, port] as const)
}
