/**
 * The application contract between servers (the fastify plugin, the worker, the testing communicators) and
 * applications (consumers, routers, middleware). It is ASGI's, in TypeScript: an application is called once per
 * connection (or background channel) with a `scope` describing it, a `receive` for events from the client and a
 * `send` for events to it. Event names are ASGI's (`websocket.connect`, `http.response.start`, ...).
 */
import type { ChannelLayer } from './layers/channel-layer.js'
import type { Logger } from './logger.js'

/** Header pairs with lower-cased names, in arrival order (a name may repeat). */
export type Headers = readonly (readonly [name: string, value: string])[]

/** Positional and named path parameters captured by `URLRouter`s, outermost first. */
export interface UrlRoute {
  readonly args: readonly (string | number)[]
  readonly kwargs: Readonly<Record<string, string | number>>
}

interface ScopeBase {
  /** The channel layer the server or worker was given; consumers see it as `this.channelLayer`. */
  readonly channelLayer?: ChannelLayer
  /** The server's logger; consumers log through a child of it. */
  readonly logger?: Logger
  /** Filled by `CookieMiddleware`. */
  readonly cookies?: Readonly<Record<string, string>>
  /** Filled by `AuthMiddleware`: whatever `authenticate(scope)` returned, `null` for an anonymous user. */
  readonly user?: unknown
  /** Filled by `URLRouter`. */
  readonly urlRoute?: UrlRoute
  /** What an outer `URLRouter` left for the inner ones to match. */
  readonly pathRemaining?: string
  /** Free for middleware to add to (a new scope object, never a mutation of the outer one). */
  readonly [extra: string]: unknown
}

interface ConnectionScope extends ScopeBase {
  /** Percent-decoded path, e.g. `/ws/chat/lobby/`. */
  readonly path: string
  /** The query string without `?`, still encoded. */
  readonly queryString: string
  readonly headers: Headers
  /** A mount prefix stripped by the outermost `URLRouter`. */
  readonly rootPath?: string
  /** Remote address and port, when known. */
  readonly client?: readonly [host: string, port: number]
  readonly server?: readonly [host: string, port: number]
  /** A server-assigned id for logs. */
  readonly connectionId?: string
}

export interface WebsocketScope extends ConnectionScope {
  readonly type: 'websocket'
  /** From `Sec-WebSocket-Protocol`, in the client's order. */
  readonly subprotocols: readonly string[]
}

export interface HttpScope extends ConnectionScope {
  readonly type: 'http'
  /** Upper-case, e.g. `GET`. */
  readonly method: string
  readonly httpVersion: string
}

/** A background channel served by a worker (`ChannelNameRouter`). */
export interface ChannelScope extends ScopeBase {
  readonly type: 'channel'
  readonly channel: string
}

export type Scope = WebsocketScope | HttpScope | ChannelScope

// Events from the client to the application.
export interface WebsocketConnectEvent {
  readonly type: 'websocket.connect'
}
export interface WebsocketReceiveEvent {
  readonly type: 'websocket.receive'
  readonly text?: string | null
  readonly bytes?: Uint8Array | null
}
export interface WebsocketDisconnectEvent {
  readonly type: 'websocket.disconnect'
  readonly code: number
}
export interface HttpRequestEvent {
  readonly type: 'http.request'
  readonly body: Uint8Array
  readonly moreBody?: boolean
}
export interface HttpDisconnectEvent {
  readonly type: 'http.disconnect'
}

/** From a worker to each channel's application: finish the handlers in progress, take no more messages, return. */
export interface ShutdownEvent {
  readonly type: 'switchyard.shutdown'
}

export type WebsocketInputEvent = WebsocketConnectEvent | WebsocketReceiveEvent | WebsocketDisconnectEvent
export type HttpInputEvent = HttpRequestEvent | HttpDisconnectEvent
export type InputEvent = WebsocketInputEvent | HttpInputEvent | ShutdownEvent

// Events from the application to the client.
export interface WebsocketAcceptEvent {
  readonly type: 'websocket.accept'
  readonly subprotocol?: string | null
  /** Extra handshake response headers. */
  readonly headers?: Headers
}
export interface WebsocketSendEvent {
  readonly type: 'websocket.send'
  readonly text?: string | null
  readonly bytes?: Uint8Array | null
}
export interface WebsocketCloseEvent {
  readonly type: 'websocket.close'
  /** Before accept: the handshake is rejected with HTTP 403. After: a close frame (default 1000). */
  readonly code?: number
  readonly reason?: string
}
export interface HttpResponseStartEvent {
  readonly type: 'http.response.start'
  readonly status: number
  readonly headers?: Headers
}
export interface HttpResponseBodyEvent {
  readonly type: 'http.response.body'
  readonly body?: Uint8Array
  /** True keeps the response open for more body (streaming, server-sent events). */
  readonly moreBody?: boolean
}

export type WebsocketOutputEvent = WebsocketAcceptEvent | WebsocketSendEvent | WebsocketCloseEvent
export type HttpOutputEvent = HttpResponseStartEvent | HttpResponseBodyEvent
export type OutputEvent = WebsocketOutputEvent | HttpOutputEvent

/** Resolves with the next client event. Rejects if the application is being cancelled. */
export type Receive = () => Promise<InputEvent>
/** Delivers an event to the client. Rejects with a coded error when the event breaks the protocol. */
export type Send = (event: OutputEvent) => Promise<void>

/**
 * What a `Send` that did its work at once returns: one settled promise shared by every such send, which a consumer's
 * run loop recognises and does not wait on (a group message forwarded by every member costs no promise per member).
 */
export const SENT: Promise<void> = Promise.resolve()

/** One call per connection or background channel; resolves when the application is done with it. */
export type Application = (scope: Scope, receive: Receive, send: Send) => Promise<void>

/** Looks up a request header by (case-insensitive) name; the first value if it repeats. */
export function getHeader(scope: { readonly headers: Headers }, name: string): string | undefined {
  const wanted = name.toLowerCase()
  for (const [key, value] of scope.headers) if (key === wanted) return value
  return undefined
}
