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
  let subprotocols: string[] | undefined
  for (const [name, value] of headers) {
    if (name !== 'sec-websocket-protocol') continue
    for (const protocol of value.split(',')) if (protocol.trim() !== '') (subprotocols ??= []).push(protocol.trim())
  }
  return Object.freeze({
    type: 'websocket',
    ...connectionFields(request, headers, context),
    // Most clients offer none: one shared empty list rather than an empty array kept by every connection.
    subprotocols: subprotocols ?? NO_SUBPROTOCOLS,
  })
}

const NO_SUBPROTOCOLS: readonly string[] = Object.freeze([])

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
    server: serverAddress(socket.localAddress, socket.localPort),
    connectionId: context.connectionId,
    logger: context.logger,
    ...(context.layer === undefined ? {} : { channelLayer: context.layer }),
  }
}

/** Lower-cased header pairs in arrival order; a repeated name stays repeated. */
export function headerPairs(request: IncomingMessage): Headers {
  const raw = request.rawHeaders
  // Sized up front: the scope keeps it for the connection's life, and one grown by push has room to spare.
  const pairs = new Array<readonly [string, string]>(raw.length >> 1)
  for (let i = 0; i < pairs.length; i++) {
    const name = headerName(raw[2 * i] ?? '')
    const value = raw[2 * i + 1] ?? ''
    pairs[i] = SHARED_VALUES.has(name) ? sharedPair(name, value) : Object.freeze([name, value] as const)
  }
  return Object.freeze(pairs)
}

function address(host: string | undefined, port: number | undefined): readonly [string, number] | undefined {
  return host === undefined || port === undefined ? undefined : Object.freeze([shared(host), port] as const)
}

// Every scope keeps its headers and addresses for the connection's life. Header names and a few headers' values
// repeat across connections (`connection: Upgrade`, `host`, the user agent), as do addresses, yet the parser makes
// new strings for each request: these tables let connections share one copy. Bounded, and only for short strings,
// so a client sending ever-new values cannot grow them; past the bound, strings are simply not shared.
const MAX_SHARED = 1024
const MAX_SHARED_LENGTH = 256
const SHARED_VALUES = new Set([
  'host',
  'connection',
  'upgrade',
  'origin',
  'user-agent',
  'pragma',
  'cache-control',
  'accept-encoding',
  'accept-language',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
])
const sharedPairs = new Map<string, readonly [string, string]>()
const lowerCaseNames = new Map<string, string>()
const sharedStrings = new Map<string, string>()
const serverAddresses = new Map<string, readonly [string, number]>()

function headerName(raw: string): string {
  const known = lowerCaseNames.get(raw)
  if (known !== undefined) return known
  const name = shared(raw.toLowerCase())
  if (lowerCaseNames.size < MAX_SHARED && raw.length <= MAX_SHARED_LENGTH) lowerCaseNames.set(raw, name)
  return name
}

function shared(value: string): string {
  const known = sharedStrings.get(value)
  if (known !== undefined) return known
  if (sharedStrings.size < MAX_SHARED && value.length <= MAX_SHARED_LENGTH) sharedStrings.set(value, value)
  return value
}

/** One frozen `[name, value]` pair for every request that sent this header with this value. */
function sharedPair(name: string, value: string): readonly [string, string] {
  const key = `${name}:${value}`
  let pair = sharedPairs.get(key)
  if (pair === undefined) {
    pair = Object.freeze([name, shared(value)] as const)
    if (sharedPairs.size < MAX_SHARED && value.length <= MAX_SHARED_LENGTH) sharedPairs.set(key, pair)
  }
  return pair
}

/** The same frozen pair for every connection to one listening address. */
function serverAddress(host: string | undefined, port: number | undefined): readonly [string, number] | undefined {
  if (host === undefined || port === undefined) return undefined
  const key = `${host}:${port}`
  let pair = serverAddresses.get(key)
  if (pair === undefined) {
    pair = Object.freeze([shared(host), port] as const)
    if (serverAddresses.size < MAX_SHARED) serverAddresses.set(key, pair)
  }
  return pair
}
