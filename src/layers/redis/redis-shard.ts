import { setTimeout as delay } from 'node:timers/promises'

import type { Redis, RedisOptions } from 'ioredis'

import { RedisUnavailableError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { newRedisClient } from './ioredis.js'
import { describeHost, type RedisHost } from './redis-options.js'

/** Connection behaviour, chosen deliberately (STYLE: Redis): */
const CLIENT_OPTIONS: RedisOptions = {
  // A command issued while disconnected fails at once instead of waiting in an unbounded queue; `call()` retries
  // it within the retry window, which is safe because it was never sent.
  enableOfflineQueue: false,
  // A command in flight when the connection drops may have run; resending could run a send twice. Fail it.
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  // Reconnect forever with capped exponential backoff and jitter.
  retryStrategy: (attempt: number) => Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) + Math.floor(Math.random() * 100),
}

/**
 * Errors after which the command is known not to have run: it never reached Redis, or Redis refused it whole for a
 * passing state (a master short of the replicas `min-replicas-to-write` asks for, a replica that a failover just
 * demoted or that lost its master, a server still loading its data): worth sending again until `retryWindowMs`.
 */
function neverSent(error: unknown): boolean {
  return (
    error instanceof Error && (/Stream isn't writeable|enableOfflineQueue/.test(error.message) || refusedWhole(error))
  )
}

function refusedWhole(error: unknown): boolean {
  return error instanceof Error && /^(NOREPLICAS|READONLY|LOADING|MASTERDOWN) /.test(error.message)
}

/** What the unavailability error adds: why Redis refused, or that the command may have run. */
function unavailableDetail(error: unknown): string {
  if (refusedWhole(error)) return ` (it refused the command: ${(error as Error).message.split(' ')[0] ?? ''})`
  return neverSent(error) ? '' : ' (the command may or may not have run)'
}

/** How long to wait before sending a command Redis refused again: the connection is fine, the state is not yet. */
const REFUSED_RETRY_MS = 100

function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (
    neverSent(error) ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|MaxRetriesPerRequest|Reached the max retries/.test(
      `${error.name} ${error.message}`,
    )
  )
}

/**
 * One Redis server (a shard): a command connection and one blocking connection (for BZPOPMIN), both reconnecting
 * with backoff. `call()` retries a command that could not be sent while the server is away, up to
 * `retryWindowMs`, then fails with `RedisUnavailableError` naming the host (never its password).
 */
export class RedisShard {
  readonly label: string
  readonly commands: Redis
  readonly blocking: Redis
  /** The blocking connection's CLIENT ID, for CLIENT UNBLOCK; forgotten when that connection closes. */
  blockingId: number | undefined
  errors = 0
  reconnects = 0
  private readyCount = 0
  private lastErrorLogAt = 0
  /** Set by close(): a connection cut mid-handshake then reports an error that is our doing, not Redis'. */
  private closing = false

  constructor(
    host: RedisHost,
    private readonly retryWindowMs: number,
    private readonly log: Logger,
    onReconnect: () => void,
  ) {
    this.label = describeHost(host)
    this.commands = createClient(host, 'switchyard')
    this.blocking = createClient(host, 'switchyard-blocking')
    for (const client of [this.commands, this.blocking]) {
      // Every call waiting for a reconnect listens for 'ready'/'end' until it resolves: as many as callers in flight.
      client.setMaxListeners(0)
      client.on('error', (error: Error) => {
        this.onError(error)
      })
    }
    this.commands.on('ready', () => {
      this.readyCount++
      if (this.readyCount > 1) {
        this.reconnects++
        this.log.info({ host: this.label }, 'redis reconnected')
        onReconnect()
      }
    })
    // On 'close', not 'ready': ioredis emits 'ready' a tick after the connection is usable, and CLIENT (allowed
    // during the handshake) may already have fetched the new ID by then; clearing it would leave that first blocking
    // read un-unblockable for BLOCK_SECONDS. No new connection exists before 'close' has been emitted.
    this.blocking.on('close', () => {
      this.blockingId = undefined
    })
  }

  /** Runs `command`, retrying while Redis is unreachable (only if the command cannot have run, or `idempotent`). */
  async call<T>(command: (client: Redis) => Promise<T>, { idempotent = false } = {}): Promise<T> {
    const deadline = Date.now() + this.retryWindowMs
    for (;;) {
      try {
        return await command(this.commands)
      } catch (error) {
        if (!isConnectionError(error)) throw error
        if ((!idempotent && !neverSent(error)) || Date.now() >= deadline) {
          throw new RedisUnavailableError(`Redis at ${this.label} is unavailable${unavailableDetail(error)}`, {
            cause: error,
          })
        }
        if (refusedWhole(error)) await delay(Math.max(0, Math.min(REFUSED_RETRY_MS, deadline - Date.now())))
        else await waitReady(this.commands, deadline)
      }
    }
  }

  /** Resolves once the command connection is ready, or rejects with `RedisUnavailableError` at the deadline. */
  async ready(timeoutMs = this.retryWindowMs): Promise<void> {
    await waitReady(this.commands, Date.now() + timeoutMs)
    if (this.commands.status !== 'ready') {
      throw new RedisUnavailableError(`Redis at ${this.label} is unavailable: could not connect in ${timeoutMs} ms`)
    }
  }

  /** Waits (bounded) for the blocking connection to be ready again after an error. */
  async blockingReady(timeoutMs: number): Promise<void> {
    await waitReady(this.blocking, Date.now() + timeoutMs)
  }

  async close(): Promise<void> {
    this.closing = true
    this.blocking.disconnect()
    try {
      if (this.commands.status === 'ready') await this.commands.quit()
    } catch {
      // Closing anyway.
    }
    this.commands.disconnect()
  }

  private onError(error: Error): void {
    if (this.closing) return
    this.errors++
    const now = Date.now()
    // A Redis that is down reports an error per reconnect attempt; one line per 10 s is enough.
    if (now - this.lastErrorLogAt < 10_000) return
    this.lastErrorLogAt = now
    this.log.warn({ host: this.label, error: error.message }, 'redis connection error')
  }
}

function createClient(host: RedisHost, connectionName: string): Redis {
  if (typeof host === 'string') return newRedisClient(host, { ...CLIENT_OPTIONS, connectionName })
  return newRedisClient({
    ...CLIENT_OPTIONS,
    connectionName,
    sentinels: host.sentinels.map((sentinel) => ({ host: sentinel.host, port: sentinel.port })),
    name: host.name,
    ...(host.db === undefined ? {} : { db: host.db }),
    ...(host.password === undefined ? {} : { password: host.password }),
    ...(host.sentinelPassword === undefined ? {} : { sentinelPassword: host.sentinelPassword }),
  })
}

async function waitReady(client: Redis, deadline: number): Promise<void> {
  if (client.status === 'ready') return
  const remaining = deadline - Date.now()
  if (remaining <= 0) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('end', done)
      resolve()
    }
    const timer = setTimeout(done, remaining)
    client.once('ready', done)
    // Closed for good (close() disconnects): it will never be ready, and close() must not wait out the timer.
    client.once('end', done)
  })
}
