import { setTimeout as delay } from 'node:timers/promises'

import type { Redis, RedisOptions } from 'ioredis'

import { RedisUnavailableError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { settledBy } from '../../settled-by.js'
import { newRedisClient } from './ioredis.js'
import type { RedisKeys } from './keys.js'
import { BLOCKING_CONNECTION_OPTIONS, CONNECTION_OPTIONS, ConnectionHealth } from './connection-health.js'
import { describeHost, type RedisHost } from './redis-options.js'
import {
  callWithRetry,
  SCAN_COUNT,
  unblockWhenUnpaused,
  waitReady,
  type CallOptions,
  type RedisClient,
  type RedisShard,
} from './redis-shard.js'
import { preloadScripts } from './lua-script.js'

/** How long a blocking read that Redis answered with an error waits before it is sent again. */
const REPLY_ERROR_RETRY_MS = 100

/**
 * One Redis server of `hosts` (or Sentinel's master): a command connection and one blocking connection (for
 * BZPOPMIN), both reconnecting with backoff.
 */
export class HostShard implements RedisShard {
  readonly label: string
  readonly commands: Redis
  readonly blocking: Redis
  /** The blocking connection's CLIENT ID, for CLIENT UNBLOCK; forgotten when that connection closes. */
  blockingId: number | undefined
  replicaShortfalls = 0
  private readonly health: ConnectionHealth
  private warnedMoved = false

  constructor(
    host: RedisHost,
    readonly keys: RedisKeys,
    readonly retryWindowMs: number,
    private readonly log: Logger,
    onReconnect: () => void,
  ) {
    this.label = describeHost(host)
    this.health = new ConnectionHealth(this.label, log)
    this.commands = createClient(host, 'switchyard')
    this.blocking = createClient(host, 'switchyard-blocking', BLOCKING_CONNECTION_OPTIONS)
    for (const client of [this.commands, this.blocking]) {
      // Every call waiting for a reconnect listens for 'ready'/'end' until it resolves: as many as callers in flight.
      client.setMaxListeners(0)
      client.on('error', (error: Error) => {
        this.health.onError(error)
      })
    }
    this.commands.on('ready', () => {
      preloadScripts(this.commands)
      this.health.onReady(onReconnect)
    })
    // On 'close', not 'ready': ioredis emits 'ready' a tick after the connection is usable, and CLIENT (allowed
    // during the handshake) may already have fetched the new ID by then; clearing it would leave that first blocking
    // read un-unblockable for BLOCK_SECONDS. No new connection exists before 'close' has been emitted.
    this.blocking.on('close', () => {
      this.blockingId = undefined
    })
  }

  get client(): RedisClient {
    return this.commands
  }

  get reachable(): boolean {
    return this.commands.status === 'ready'
  }

  async call<T>(command: (client: RedisClient) => Promise<T>, options: CallOptions = {}): Promise<T> {
    try {
      return await callWithRetry(this, command, options, (deadline) => waitReady(this.commands, deadline))
    } catch (error) {
      this.noteReply(error)
      throw error
    }
  }

  callOnServer<T>(command: (server: Redis) => Promise<T>, options?: CallOptions): Promise<T> {
    return this.call(() => command(this.commands), options)
  }

  /** Resolves once the command connection is ready, or rejects with `RedisUnavailableError` at the deadline. */
  async ready(timeoutMs = this.retryWindowMs): Promise<void> {
    await waitReady(this.commands, Date.now() + timeoutMs)
    if (this.commands.status !== 'ready') {
      throw new RedisUnavailableError(`Redis at ${this.label} is unavailable: could not connect in ${timeoutMs} ms`)
    }
  }

  /** Waits (bounded) for the blocking connection to be ready again after an error. */
  async blockingReady(timeoutMs: number, error?: unknown): Promise<void> {
    if (this.blocking.status !== 'ready') {
      await waitReady(this.blocking, Date.now() + timeoutMs)
      return
    }
    // Connected, and Redis answered the read with an error: asking again at once would spin.
    this.noteReply(error)
    await delay(Math.min(timeoutMs, REPLY_ERROR_RETRY_MS))
  }

  /** A MOVED reply means `hosts` names a cluster node: say once what to change (every command would fail so). */
  private noteReply(error: unknown): void {
    if (!(error instanceof Error) || !error.message.startsWith('MOVED ') || this.warnedMoved) return
    this.warnedMoved = true
    this.log.error(
      { host: this.label },
      'this Redis is a cluster node: give its nodes as the layer option cluster: { nodes }, not as hosts',
    )
  }

  get errors(): number {
    return this.health.errors
  }

  get reconnects(): number {
    return this.health.reconnects
  }

  async unblock(id: number): Promise<void> {
    await unblockWhenUnpaused(this.commands, id)
  }

  async scan(cursor: string, pattern: string, type?: 'zset'): Promise<[string, string[]]> {
    return this.call(
      (client) =>
        type === undefined
          ? client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
          : client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT, 'TYPE', type),
      { idempotent: true },
    )
  }

  async close(deadline: number): Promise<void> {
    this.health.closing = true
    this.blocking.disconnect()
    if (this.commands.status === 'ready') await settledBy(this.commands.quit(), deadline)
    this.commands.disconnect()
  }
}

function createClient(host: RedisHost, connectionName: string, options: RedisOptions = CONNECTION_OPTIONS): Redis {
  if (typeof host === 'string') return newRedisClient(host, { ...options, connectionName })
  return newRedisClient({
    ...options,
    connectionName,
    sentinels: host.sentinels.map((sentinel) => ({ host: sentinel.host, port: sentinel.port })),
    name: host.name,
    ...(host.db === undefined ? {} : { db: host.db }),
    ...(host.password === undefined ? {} : { password: host.password }),
    ...(host.sentinelPassword === undefined ? {} : { sentinelPassword: host.sentinelPassword }),
  })
}
