import { setTimeout as delay } from 'node:timers/promises'

import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'

import { RedisUnavailableError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { settledBy } from '../../settled-by.js'
import { ConnectionHealth, reconnectDelayMs } from './connection-health.js'
import { newClusterClient } from './ioredis.js'
import { preloadScripts } from './lua-script.js'
import { describeHost, type ResolvedClusterOptions } from './redis-options.js'
import { untilAborted, waitReady } from './redis-shard.js'

/**
 * How often the slot map is read again regardless (ioredis' default). A failover or a moved slot is followed sooner:
 * on MOVED, and when a command or blocking read of a shard fails (`refresh`). Each periodic read opens a connection
 * and rebuilds ioredis' 16 384-slot table: every second, that was 5-8 ms of CPU per second of an idle process.
 */
const SLOTS_REFRESH_MS = 5_000
/** How long to wait before trying a slot whose master is away again (the cluster is electing its replica). */
const FAILOVER_POLL_MS = 100

/** The cluster client's behaviour, chosen deliberately (STYLE: Redis), as for a single Redis (host-shard.ts): */
const CLUSTER_OPTIONS: ClusterOptions = {
  // A command issued before the slot map is known fails at once instead of waiting in an unbounded queue.
  enableOfflineQueue: false,
  // ioredis would send a command again after "Connection is closed.", though it may have run: a send could run
  // twice. A command that failed so is failed; `call()` retries only what is idempotent or was never sent.
  retryDelayOnFailover: 0,
  // CLUSTERDOWN (no master for a slot yet) comes back to `call()`, which retries it within `retryWindowMs`.
  retryDelayOnClusterDown: 0,
  retryDelayOnTryAgain: 50,
  slotsRefreshInterval: SLOTS_REFRESH_MS,
  slotsRefreshTimeout: 1_000,
  scaleReads: 'master',
  clusterRetryStrategy: reconnectDelayMs,
}

/**
 * The one cluster client a layer's shards share (cluster-shard.ts): ioredis follows MOVED and ASK, and reads the
 * slot map again after them, every 5 seconds, and when asked (a shard whose blocking read or command found its
 * master gone). Errors are counted and logged here once, not per shard.
 */
export class ClusterConnection {
  readonly client: Cluster
  readonly label: string
  /** `host:port` of the first node given, for a connection made before the slot map is known. */
  readonly seed: string
  /** What every connection to a node needs besides its address (from the first URL: all nodes share them). */
  readonly credentials: Pick<RedisOptions, 'username' | 'password' | 'tls'>
  readonly health: ConnectionHealth
  private refreshing: Promise<void> | undefined

  constructor(options: ResolvedClusterOptions, log: Logger, onReconnect: () => void) {
    this.label = `cluster ${options.nodes.map(describeHost).join(',')}`
    this.health = new ConnectionHealth(this.label, log)
    const first = new URL(options.nodes[0] ?? 'redis://127.0.0.1:6379')
    this.seed = first.host
    this.credentials = {
      ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
      ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    }
    this.client = newClusterClient(options.nodes.map(parseNode), {
      ...CLUSTER_OPTIONS,
      redisOptions: {
        connectionName: 'switchyard',
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        ...this.credentials,
      },
    })
    this.client.setMaxListeners(0)
    for (const event of ['error', 'node error']) {
      this.client.on(event, (error: Error) => {
        this.health.onError(error)
      })
    }
    this.client.on('ready', () => {
      this.health.onReady(onReconnect)
    })
    // Each node's connection, as it becomes ready: a promoted replica or a restarted master has no scripts.
    this.client.on('+node', (node: Redis) => {
      node.on('ready', () => {
        preloadScripts(node)
      })
    })
  }

  /** `host:port` of the master serving `slot`, as the client last learnt it. */
  masterOf(slot: number): string | undefined {
    return this.client.slots[slot]?.[0]
  }

  /** The cluster client's own connection to `address` (a `host:port` of the slot map). */
  nodeAt(address: string): Redis | undefined {
    return this.client.nodes('all').find((node) => `${node.options.host}:${node.options.port}` === address)
  }

  /**
   * Resolves once the connection to `slot`'s master is ready (connecting it if needed), or at the deadline. The
   * cluster client refuses a command for a node still connecting with the same "Connection is closed." as one cut
   * while the command was in flight, which might have run: waiting here first keeps that error for the latter.
   * Once `signal` aborts (the caller gives up), it resolves at once with the node as it is.
   */
  async masterReady(slot: number, deadline: number, signal?: AbortSignal): Promise<Redis | undefined> {
    for (;;) {
      const address = this.masterOf(slot)
      const node = address === undefined ? undefined : this.nodeAt(address)
      if (node?.status === 'ready') return node
      if (Date.now() >= deadline || this.health.closing || signal?.aborted === true) return node
      await untilAborted(this.nodeReady(node, deadline), signal)
    }
  }

  /** One wait of `masterReady`: for the client, the node's connection, or a fresh slot map. */
  private async nodeReady(node: Redis | undefined, deadline: number): Promise<void> {
    if (this.client.status !== 'ready') await waitReady(this.client, deadline)
    else if (
      node !== undefined &&
      (node.status === 'wait' || node.status === 'connecting' || node.status === 'connect')
    ) {
      if (node.status === 'wait') node.connect().catch(() => undefined)
      // Every command of every shard on this master may wait here at once: more than Node's default of 10 listeners,
      // which would print a MaxListenersExceededWarning at startup and after each failover.
      node.setMaxListeners(0)
      await waitReady(node, Math.min(deadline, Date.now() + FAILOVER_POLL_MS * 5))
    } else await this.waitToRetry(deadline)
  }

  /** Reads the slot map again (one read at a time, bounded): after a failover, a slot's new master. */
  async refresh(timeoutMs = 1_000): Promise<void> {
    if (this.health.closing) return
    this.refreshing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      this.client.refreshSlotsCache(() => {
        clearTimeout(timer)
        resolve()
      })
    }).finally(() => {
      this.refreshing = undefined
    })
    await this.refreshing
  }

  /**
   * Waits before a command that failed on a connection error is retried: for the client to be ready, then (it is
   * ready, but a master went away) for a fresh slot map.
   */
  async waitToRetry(deadline: number): Promise<void> {
    if (this.client.status !== 'ready') {
      await waitReady(this.client, deadline)
      return
    }
    await Promise.all([this.refresh(), delay(Math.max(0, Math.min(FAILOVER_POLL_MS, deadline - Date.now())))])
  }

  async ready(timeoutMs: number): Promise<void> {
    await waitReady(this.client, Date.now() + timeoutMs)
    if (this.client.status !== 'ready') {
      throw new RedisUnavailableError(`Redis at ${this.label} is unavailable: could not connect in ${timeoutMs} ms`)
    }
  }

  /** QUIT when it can before `deadline` (a node that does not answer must not hold a closing process), then at once. */
  async close(deadline: number): Promise<void> {
    this.health.closing = true
    if (this.client.status === 'ready') await settledBy(this.client.quit(), deadline)
    this.client.disconnect()
  }
}

function parseNode(url: string): ClusterNode {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port) }
}
