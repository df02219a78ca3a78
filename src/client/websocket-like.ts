/**
 * The slice of the WebSocket API the client uses, written structurally so the client typechecks without DOM
 * types and accepts both the browser's `WebSocket` and the `ws` package's. Handlers are declared bivariantly
 * (the method-signature trick) because each implementation types its event objects differently; the client
 * reads only the fields below.
 */
type SocketHandler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

/** What a `message` event carries: a string for a text frame, something else for a binary one. */
export interface MessageEventLike {
  readonly data: unknown
}

/** What a `close` event carries. */
export interface CloseEventLike {
  readonly code: number
  readonly reason: string
}

/** A WebSocket as the client drives it. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: SocketHandler<unknown> | null
  onmessage: SocketHandler<MessageEventLike> | null
  onclose: SocketHandler<CloseEventLike> | null
  onerror: SocketHandler<unknown> | null
}

/**
 * A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node, whose third argument
 * takes the handshake's `origin` and `headers` (the client passes one only when they were given).
 */
export type WebSocketConstructorLike = new (
  url: string,
  protocols?: string | string[],
  options?: { origin?: string | undefined; headers?: Record<string, string> | undefined },
) => WebSocketLike

/** `WebSocket.OPEN`, inlined so the client never needs the constructor's statics. */
export const OPEN = 1
