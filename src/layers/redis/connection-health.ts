import type { RedisOptions } from 'ioredis'

import type { Logger } from '../../logger.js'

/** Reconnect forever with capped exponential backoff and jitter. */
export function reconnectDelayMs(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) + Math.floor(Math.random() * 100)
}

/** Every connection to one Redis server, chosen deliberately (STYLE: Redis): */
export const CONNECTION_OPTIONS = {
  // A command issued while disconnected fails at once instead of waiting in an unbounded queue; `call()` retries
  // it within the retry window, which is safe because it was never sent.
  enableOfflineQueue: false,
  // A command in flight when the connection drops may have run; resending could run a send twice. Fail it.
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  retryStrategy: reconnectDelayMs,
} as const satisfies RedisOptions

/**
 * What a layer's connections to one place (a host, or a cluster) have lived through, for `stats()` and the log:
 * errors (logged at most once per 10 s: a Redis that is down reports one per reconnect attempt) and reconnects
 * (every `ready` after the first, when what Redis may have lost is added back).
 */
export class ConnectionHealth {
  errors = 0
  reconnects = 0
  /** Set on close: a connection cut mid-handshake then reports an error that is our doing, not Redis'. */
  closing = false
  private readyCount = 0
  private lastErrorLogAt = 0

  constructor(
    private readonly label: string,
    private readonly log: Logger,
  ) {}

  onError(error: Error): void {
    if (this.closing) return
    this.errors++
    const now = Date.now()
    if (now - this.lastErrorLogAt < 10_000) return
    this.lastErrorLogAt = now
    this.log.warn({ host: this.label, error: error.message }, 'redis connection error')
  }

  /** On `ready`: calls `onReconnect` for every one after the first. */
  onReady(onReconnect: () => void): void {
    this.readyCount++
    if (this.readyCount === 1) return
    this.reconnects++
    this.log.info({ host: this.label }, 'redis reconnected')
    onReconnect()
  }
}
