import { setTimeout as delay } from 'node:timers/promises'

import type { Redis } from 'ioredis'

import type { Logger } from '../../logger.js'
import type { ClusterConnection } from './cluster-connection.js'
import { hashSlot } from './cluster-slots.js'
import { BLOCKING_CONNECTION_OPTIONS } from './connection-health.js'
import { newRedisClient } from './ioredis.js'
import { RedisKeys } from './keys.js'
import {
  callWithRetry,
  SCAN_COUNT,
  unblockWhenUnpaused,
  waitReady,
  type CallOptions,
  type RedisClient,
  type RedisShard,
} from './redis-shard.js'

/** How long a blocking read waits before trying again where it was, while its slot moves or fails over. */
const BLOCKING_RETRY_MS = 50
/** How often a blocking read whose master is away reads the slot map again. */
const FAILOVER_POLL_MS = 100

/**
 * One hash tag of a cluster layer (option `cluster`): every key of the shard starts with `{<tag>}`, so each script,
 * pipeline and multi-key command of the shard stays in one hash slot, and the layer's `hosts` code (a channel on
 * the shard its name hashes to, group sends delivered per shard) runs unchanged with shards for hosts.
 *
 * Commands go through the cluster client every shard shares, which follows MOVED, ASK and failovers. BZPOPMIN
 * cannot share it (it would hold the node's connection): each shard has its own connection to its slot's master,
 * moved to the new master when a read fails (a failover answers `UNBLOCKED` or drops it, a resharding `MOVED`).
 */
export class ClusterShard implements RedisShard {
  readonly label: string
  readonly keys: RedisKeys
  readonly slot: number
  blockingId: number | undefined
  replicaShortfalls = 0
  private blockingClient: Redis | undefined
  private blockingAddress: string | undefined
  private blockingErrors = 0
  /** The cluster client's connection to this slot's master when last seen ready, and that master's address. */
  private master: Redis | undefined
  private masterAddress: string | undefined

  constructor(
    private readonly connection: ClusterConnection,
    tag: string,
    private readonly reportsConnection: boolean,
    readonly retryWindowMs: number,
    private readonly log: Logger,
  ) {
    this.keys = new RedisKeys(`{${tag}}`)
    this.slot = hashSlot(tag)
    this.label = `${connection.label} slot ${this.slot}`
  }

  get commands(): RedisClient {
    return this.connection.client
  }

  get client(): RedisClient {
    return this.connection.client
  }

  get reachable(): boolean {
    const master = this.connection.masterOf(this.slot)
    return master !== undefined && this.connection.nodeAt(master)?.status === 'ready'
  }

  /** Counted once per layer (the first shard), plus this shard's own blocking connection's. */
  get errors(): number {
    return this.blockingErrors + (this.reportsConnection ? this.connection.health.errors : 0)
  }

  get reconnects(): number {
    return this.reportsConnection ? this.connection.health.reconnects : 0
  }

  get blocking(): Redis {
    if (this.blockingClient === undefined) this.connectBlocking(this.connection.masterOf(this.slot))
    return this.blockingClient as Redis
  }

  async call<T>(command: (client: RedisClient) => Promise<T>, options: CallOptions = {}): Promise<T> {
    const { signal } = options
    if (this.master?.status !== 'ready' || this.connection.masterOf(this.slot) !== this.masterAddress) {
      // Cut short by `signal` as a wait to retry is: then the command fails at once on the connection not ready.
      this.master = await this.connection.masterReady(this.slot, Date.now() + this.retryWindowMs, signal)
      this.masterAddress = this.connection.masterOf(this.slot)
    }
    return callWithRetry(this, command, options, async (deadline) => {
      await this.connection.waitToRetry(deadline)
      this.master = await this.connection.masterReady(this.slot, deadline, signal)
      this.masterAddress = this.connection.masterOf(this.slot)
    })
  }

  async callOnServer<T>(command: (server: Redis) => Promise<T>, options?: CallOptions): Promise<T> {
    return this.call(async () => {
      try {
        return await command(this.masterNode())
      } catch (error) {
        // The node, not the cluster client, answered: it follows no redirection by itself, and it ran nothing.
        if (!(error instanceof Error)) throw error
        // The slot is moving and the keys are on the importing master already: there, behind ASKING (the same tick,
        // so the same connection, right before the command), as the cluster client would.
        const importing = /^ASK \d+ (\S+)$/.exec(error.message)?.[1]
        const target = importing === undefined ? undefined : this.connection.nodeAt(importing)
        if (target !== undefined) {
          target.asking().catch(() => undefined)
          return await command(target)
        }
        if (!/^(MOVED|ASK) /.test(error.message)) throw error
        // The slot has moved: read the slot map again and send it where it went (retried within `retryWindowMs`).
        await this.connection.refresh()
        throw new Error(`TRYAGAIN the slot moved (${error.message})`, { cause: error })
      }
    }, options)
  }

  async ready(timeoutMs = this.retryWindowMs): Promise<void> {
    await this.connection.ready(timeoutMs)
  }

  async blockingReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      await this.connection.refresh(Math.max(1, deadline - Date.now()))
      const master = this.connection.masterOf(this.slot)
      if (master !== undefined && master !== this.blockingAddress) {
        this.connectBlocking(master)
        await waitReady(this.blocking, deadline)
        return
      }
      if (this.blockingIsReady()) {
        // Same master, connection fine: the slot is being moved (ASK, TRYAGAIN) or the failover is not decided
        // yet. Wait a little rather than ask again at once, until the slot map says where the keys went.
        await delay(Math.max(0, Math.min(BLOCKING_RETRY_MS, deadline - Date.now())))
        return
      }
      if (Date.now() >= deadline) return
      // Its master is away: read the slot map again every FAILOVER_POLL_MS, so the replica that takes over is
      // followed within that, not at the end of the wait.
      await waitReady(this.blocking, Math.min(deadline, Date.now() + FAILOVER_POLL_MS))
      if (this.blockingIsReady()) return
    }
  }

  // A method: TypeScript would keep the status it narrowed before an await.
  private blockingIsReady(): boolean {
    return this.blocking.status === 'ready'
  }

  async unblock(id: number): Promise<void> {
    const node = this.blockingAddress === undefined ? undefined : this.connection.nodeAt(this.blockingAddress)
    // No connection to that node (yet): the read ends by itself within its timeout.
    if (node !== undefined) await unblockWhenUnpaused(node, id)
  }

  async scan(cursor: string, pattern: string, type?: 'zset'): Promise<[string, string[]]> {
    // SCAN names no key: it must go to the node holding this shard's slot, which the slot map names.
    return this.call(
      async () => {
        const node = this.masterNode()
        return type === undefined
          ? node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
          : node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT, 'TYPE', type)
      },
      { idempotent: true },
    )
  }

  async close(): Promise<void> {
    this.blockingClient?.disconnect()
    return Promise.resolve()
  }

  /** The cluster client's connection to this slot's master, as the slot map names it. */
  private masterNode(): Redis {
    const master = this.connection.masterOf(this.slot)
    const node = master === undefined ? undefined : this.connection.nodeAt(master)
    // Never sent: retried once the slot map names a master it is connected to.
    if (node === undefined) throw new Error("Stream isn't writeable: no connection to this slot's master yet")
    return node
  }

  private connectBlocking(address: string | undefined): void {
    this.blockingClient?.disconnect()
    this.blockingId = undefined
    // Before the slot map is known, any node: a read there answers MOVED, and the next attempt follows it.
    const target = address ?? this.connection.seed
    const [host, port] = splitAddress(target)
    const client = newRedisClient({
      ...BLOCKING_CONNECTION_OPTIONS,
      ...this.connection.credentials,
      host,
      port: Number(port),
      connectionName: 'switchyard-blocking',
    })
    client.setMaxListeners(0)
    client.on('error', (error: Error) => {
      this.blockingErrors++
      this.log.debug({ host: target, error: error.message }, 'redis blocking connection error')
    })
    client.on('close', () => {
      if (this.blockingClient === client) this.blockingId = undefined
    })
    this.blockingClient = client
    this.blockingAddress = address
  }
}

function splitAddress(address: string): [string, string] {
  const colon = address.lastIndexOf(':')
  return [address.slice(0, colon), address.slice(colon + 1)]
}
