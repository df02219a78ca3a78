import type { WebSocketConstructorLike } from './websocket-like.js'

/** How the client reconnects after a connection drops for a reason worth retrying (see `shouldReconnect`). */
export interface ReconnectOptions {
  /**
   * Wait before the first attempt after a drop.
   * @defaultValue 500
   */
  initialDelayMs: number
  /**
   * Each further attempt waits this many times longer.
   * @defaultValue 2
   */
  factor: number
  /**
   * Cap on the wait before jitter (so the longest wait is `maxDelayMs * (1 + jitter)`).
   * @defaultValue 10_000
   */
  maxDelayMs: number
  /**
   * Fraction each wait is randomly moved up or down by, from 0 (none) to 1.
   * @defaultValue 0.5
   */
  jitter: number
  /**
   * Consecutive failed attempts before giving up (state `closed`); 0 never reconnects.
   * @defaultValue Infinity
   */
  maxAttempts: number
  /**
   * A connection open at least this long counts as healthy: the next drop starts again from `initialDelayMs`.
   * @defaultValue 5_000
   */
  stableAfterMs: number
  /**
   * Consecutive attempts that never opened, before any connection ever did, after which the client gives up with
   * state `refused`: the server refuses the handshake (its Origin check, authentication, no such route) or is not
   * there at all. Once a connection has opened, drops never count (the server restarts, the network comes back).
   * @defaultValue 5
   */
  maxRefusals: number
}

/** Timers and the time, injectable so tests can drive them. */
export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Options of `connect`. */
export interface ConnectOptions {
  /** Reconnect settings, merged over the defaults; `false` never reconnects. */
  reconnect?: Partial<ReconnectOptions> | false
  /**
   * Messages `send` queues while not connected; over it the oldest is dropped and counted in `stats().dropped`.
   * @defaultValue 100
   */
  maxQueuedMessages?: number
  /**
   * WebSocket subprotocols offered to the server.
   * @defaultValue []
   */
  protocols?: string[]
  /**
   * The WebSocket constructor, e.g. `WebSocket` from the `ws` package in Node.
   * @defaultValue globalThis.WebSocket
   */
  WebSocket?: WebSocketConstructorLike
  /**
   * The `Origin` header, in Node (a browser sends its page's own and ignores this): a server behind an Origin
   * check (`AllowedHostsOriginValidator`) refuses a handshake without one, e.g. `'http://127.0.0.1:8000'`.
   * @defaultValue none
   */
  origin?: string
  /**
   * More handshake headers, in Node (a browser ignores them), e.g. `{ authorization: 'Bearer ...' }`.
   * @defaultValue none
   */
  headers?: Record<string, string>
  /**
   * Timers for reconnect delays.
   * @defaultValue Date.now, globalThis.setTimeout and clearTimeout
   */
  clock?: Clock
  /**
   * Source of jitter, returning numbers in [0, 1).
   * @defaultValue Math.random
   */
  random?: () => number
}

export const DEFAULT_RECONNECT_OPTIONS: Readonly<ReconnectOptions> = Object.freeze({
  initialDelayMs: 500,
  factor: 2,
  maxDelayMs: 10_000,
  jitter: 0.5,
  maxAttempts: Infinity,
  stableAfterMs: 5_000,
  maxRefusals: 5,
})

export interface ResolvedOptions {
  readonly reconnect: Readonly<ReconnectOptions>
  readonly maxQueuedMessages: number
  readonly protocols: string[]
  readonly WebSocket: WebSocketConstructorLike
  /** The `ws` package's third constructor argument, when `origin` or `headers` was given. */
  readonly socketOptions: { origin?: string | undefined; headers?: Record<string, string> | undefined } | undefined
  readonly clock: Clock
  readonly random: () => number
}

const DEFAULT_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as Parameters<typeof clearTimeout>[0])
  },
}

function check(name: string, value: number, max = Infinity): void {
  // `!(a <= b)` also rejects NaN and non-numbers coming from untyped callers.
  if (!(value >= 0 && value <= max)) {
    throw new TypeError(`Expected \`${name}\` to be a number from 0 to ${max}, got ${String(value)}`)
  }
}

/** `options` over the defaults, each field validated with a message naming it. */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  const given = options.reconnect === false ? { maxAttempts: 0 } : options.reconnect
  const reconnect = { ...DEFAULT_RECONNECT_OPTIONS }
  for (const key of Object.keys(reconnect) as (keyof ReconnectOptions)[]) {
    // `??`, not a spread, so an option passed as undefined keeps its default.
    reconnect[key] = given?.[key] ?? reconnect[key]
    check(`reconnect.${key}`, reconnect[key], key === 'jitter' ? 1 : Infinity)
  }
  const maxQueuedMessages = options.maxQueuedMessages ?? 100
  check('maxQueuedMessages', maxQueuedMessages)
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructorLike }).WebSocket
  if (WebSocket === undefined) {
    throw new TypeError('No global WebSocket: pass the `WebSocket` option (e.g. from the ws package)')
  }
  return {
    reconnect,
    maxQueuedMessages,
    protocols: options.protocols ?? [],
    WebSocket,
    // `ws` skips an undefined origin or headers.
    socketOptions:
      options.origin === undefined && options.headers === undefined
        ? undefined
        : { origin: options.origin, headers: options.headers },
    clock: options.clock ?? DEFAULT_CLOCK,
    random: options.random ?? Math.random,
  }
}
