import type { Listener } from './listeners.js'

/** `connecting` (first attempt), `open`, `reconnecting` (waiting or retrying after a drop), `closed` (for good). */
/**
 * `refused`: no attempt ever opened and `reconnect.maxRefusals` in a row failed (the handshake was refused, or
 * nothing listens); like `closed`, for good.
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed' | 'refused'

/** Counters since `connect`; every message passed to `send` ends up in `sent` or `dropped` (or is still queued). */
export interface ConnectionStats {
  /** Messages handed to an open socket. */
  sent: number
  /** Messages received and dispatched. */
  received: number
  /** Messages never sent: pushed out of the full queue, or still queued when the connection closed for good. */
  dropped: number
  /** Successful reconnections, i.e. `onOpen` calls with `reconnected: true`. */
  reconnects: number
  /** Frames ignored because they were not a JSON object with a string `type` (binary frames included). */
  malformed: number
}

export interface OpenInfo {
  /** False for the first connection, true for every one after a drop. */
  reconnected: boolean
}

export interface CloseInfo {
  code: number
  reason: string
  /** Whether a reconnect is scheduled (see `shouldReconnect` for the close codes that are retried). */
  willReconnect: boolean
}

/** The least a server message is: a JSON object with a string `type`. */
export interface ServerMessage {
  type: string
  [field: string]: unknown
}

/** The members of the union `T` whose `type` can be `K`. */
export type MessageOfType<T, K> = T extends { type: infer X } ? (K extends X ? T : never) : never

/**
 * A WebSocket that reconnects, speaks JSON and dispatches on `type`. Every `on*` method returns a function that
 * removes the handler. Handlers may be async; a throw or rejection is logged once per handler and never reaches
 * the connection.
 */
export interface Connection<TServer extends { type: string } = ServerMessage, TClient = unknown> {
  /** The absolute ws:// or wss:// URL. */
  readonly url: string
  readonly state: ConnectionState
  /** Runs `handler` for each message of this `type`, narrowed to that member of the union. */
  on<K extends TServer['type']>(type: K, handler: Listener<MessageOfType<TServer, K>>): () => void
  /** Runs `handler` for every well-formed message, before the handlers registered with `on`. */
  onMessage(handler: Listener<TServer>): () => void
  /**
   * Runs `handler` on every (re)connect, before the queued messages are flushed: the place to resubscribe, since
   * messages it sends go out first.
   */
  onOpen(handler: Listener<OpenInfo>): () => void
  onStateChange(handler: Listener<ConnectionState>): () => void
  /** Runs `handler` each time a socket closes, failed attempts included; not again after `close()`. */
  onClose(handler: Listener<CloseInfo>): () => void
  /**
   * Sends `message` as JSON text now if open, else queues it (bounded by `maxQueuedMessages`, the oldest dropped).
   * Throws `ConnectionClosedError` once the state is `closed`, and whatever `JSON.stringify` throws.
   */
  send(message: TClient): void
  stats(): ConnectionStats
  /**
   * Closes for good: no reconnect, queued messages are dropped (and counted), handlers are not called again.
   * Idempotent. `code` must be 1000 or 3000-4999, as browsers require.
   */
  close(code?: number, reason?: string): void
}
