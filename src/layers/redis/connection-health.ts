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

/** How long one blocking read (BZMPOP, BZPOPMIN) waits before looking again (CLIENT UNBLOCK usually cuts it short). */
export const BLOCK_SECONDS = 2

/**
 * A blocking connection's options: CONNECTION_OPTIONS, and a socket that is given up once a read has had no answer
 * for 3 s past its own timeout. A server always answers a read within BLOCK_SECONDS, with nil at worst; one that
 * does not is frozen, or cut off by a partition that sends no reset, where the read would wait for ever and never
 * follow a failover to the new master. The read is then sent again on a new connection; such a server cannot have
 * taken a message for it meanwhile, short of a reply lost on its way.
 */
export const BLOCKING_CONNECTION_OPTIONS = {
  ...CONNECTION_OPTIONS,
  socketTimeout: BLOCK_SECONDS * 1000 + 3_000,
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
