import { InvalidOptionError } from '../../errors.js'
import { positiveInteger, resolveLayerOptions, type LayerOptions, type ResolvedLayerOptions } from '../layer-options.js'
import { TASK_STORE_OPTION_KEYS, type TaskStoreLayerOptions } from '../../tasks/task-store-options.js'
import { resolveReplicaWait, type ReplicaWait, type ReplicaWaitOptions } from './replica-wait.js'

/** A Sentinel-managed Redis (through ioredis). */
export interface SentinelHost {
  readonly sentinels: readonly { readonly host: string; readonly port: number }[]
  /** The master group name the sentinels monitor. */
  readonly name: string
  readonly db?: number
  readonly password?: string
  readonly sentinelPassword?: string
}

/** A Redis URL (`redis://[:password@]host:port/db`, `rediss://…`) or a Sentinel entry. */
export type RedisHost = string | SentinelHost

/** A Redis Cluster (cluster mode enabled), through ioredis' Cluster client. */
export interface RedisClusterOptions {
  /** Some of the cluster's nodes, as `redis://[[user]:password@]host:port` URLs (`rediss://` for TLS); any will do. */
  readonly nodes: readonly string[]
  /**
   * How many hash tags the layer's keys are spread over: each shard's keys (its channels' queues and bookkeeping,
   * its groups' members and history, its processes' registry entries) share one hash slot, and the shards' slots
   * are spread evenly over the slot space. Every process on the prefix must use the same number.
   * @defaultValue 12
   */
  readonly shards?: number
}

export interface ResolvedClusterOptions {
  readonly nodes: readonly string[]
  readonly shards: number
}

export interface RedisLayerOptions extends LayerOptions, TaskStoreLayerOptions {
  /**
   * Redis servers; several are shards (channels_redis' consistent hash picks one per name).
   * @defaultValue `[process.env.REDIS_URL ?? 'redis://127.0.0.1:6379']`
   */
  readonly hosts?: readonly RedisHost[]
  /**
   * A Redis Cluster instead of `hosts` (Node-only: channels_redis cannot talk to a cluster). Not with `hosts`.
   * @defaultValue undefined
   */
  readonly cluster?: RedisClusterOptions
  /**
   * Key prefix; every process sharing channels (Node or Django) must use the same one.
   * @defaultValue 'asgi' (channels_redis' default)
   */
  readonly prefix?: string
  /** Keys for Fernet encryption of payloads at rest, as channels_redis: the first encrypts, all decrypt. */
  readonly symmetricEncryptionKeys?: readonly string[]
  /**
   * Payload encoding. `json` cannot carry bytes.
   * @defaultValue 'msgpack'
   */
  readonly serializer?: 'msgpack' | 'json'
  /**
   * Capacity of this process's own inbound queue in Redis, shared by all its `newChannel()` channels (each also
   * has a local buffer of its own `capacity`), so one busy consumer cannot fill it for the others.
   * @defaultValue 10_000
   */
  readonly processQueueCapacity?: number
  /**
   * How often this process proves it is alive.
   * @defaultValue 5_000
   */
  readonly heartbeatIntervalMs?: number
  /**
   * A process silent this long is dead: live processes remove its channels from every group.
   * @defaultValue 30_000
   */
  readonly staleAfterMs?: number
  /**
   * How long a call waits for an unreachable Redis to come back before failing with `RedisUnavailableError`.
   * @defaultValue 2_000
   */
  readonly retryWindowMs?: number
  /**
   * Writes that carry tasks (`send` to a named channel, a delayed send, a worker's settlements) resolve only once
   * `replicas` replicas of their Redis have them (Redis' WAIT, within `timeoutMs`), so a failover cannot lose a send
   * or an ack that resolved; a shortfall fails with `RedisUnavailableError` (the write ran on the master). Off by
   * default: replication is asynchronous, as in Redis. Not for group sends or process channels (`newChannel()`).
   * @defaultValue undefined
   */
  readonly waitForReplicas?: ReplicaWaitOptions
}

export interface ResolvedRedisOptions extends ResolvedLayerOptions {
  /** Empty with `cluster`. */
  readonly hosts: readonly RedisHost[]
  readonly cluster: ResolvedClusterOptions | undefined
  readonly prefix: string
  readonly symmetricEncryptionKeys: readonly string[]
  readonly serializer: 'msgpack' | 'json'
  readonly processQueueCapacity: number
  readonly heartbeatIntervalMs: number
  readonly staleAfterMs: number
  readonly retryWindowMs: number
  readonly waitForReplicas: ReplicaWait | undefined
}

const REDIS_KEYS = [
  ...TASK_STORE_OPTION_KEYS,
  'hosts',
  'cluster',
  'prefix',
  'symmetricEncryptionKeys',
  'serializer',
  'processQueueCapacity',
  'heartbeatIntervalMs',
  'staleAfterMs',
  'retryWindowMs',
  'waitForReplicas',
]

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/

export function resolveRedisOptions(options: RedisLayerOptions = {}): ResolvedRedisOptions {
  const common = resolveLayerOptions(options, REDIS_KEYS)
  const heartbeatIntervalMs = positiveInteger('heartbeatIntervalMs', options.heartbeatIntervalMs, 5_000)
  const staleAfterMs = positiveInteger('staleAfterMs', options.staleAfterMs, 30_000)
  if (staleAfterMs <= heartbeatIntervalMs * 2) {
    throw new InvalidOptionError('staleAfterMs', 'more than twice heartbeatIntervalMs', staleAfterMs)
  }
  return Object.freeze({
    ...common,
    ...resolveServers(options),
    prefix: resolvePrefix(options.prefix),
    symmetricEncryptionKeys: resolveKeys(options.symmetricEncryptionKeys),
    serializer: resolveSerializer(options.serializer),
    processQueueCapacity: positiveInteger('processQueueCapacity', options.processQueueCapacity, 10_000),
    heartbeatIntervalMs,
    staleAfterMs,
    retryWindowMs: positiveInteger('retryWindowMs', options.retryWindowMs, 2_000),
    waitForReplicas: resolveReplicaWait(options.waitForReplicas),
  })
}

const MAX_CLUSTER_SHARDS = 1_024

function resolveServers(options: RedisLayerOptions): Pick<ResolvedRedisOptions, 'hosts' | 'cluster'> {
  if (options.cluster === undefined) return { hosts: resolveHosts(options.hosts), cluster: undefined }
  if (options.hosts !== undefined) {
    throw new InvalidOptionError('cluster', 'given without hosts (a layer uses hosts or a cluster, not both)', 'both')
  }
  return { hosts: Object.freeze([]), cluster: resolveCluster(options.cluster) }
}

function resolveCluster(cluster: unknown): ResolvedClusterOptions {
  if (typeof cluster !== 'object' || cluster === null) {
    throw new InvalidOptionError('cluster', '{ nodes: [redis:// URLs], shards? }', cluster)
  }
  const { nodes, shards } = cluster as { nodes?: unknown; shards?: unknown }
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new InvalidOptionError('cluster.nodes', 'a non-empty array of redis:// URLs', nodes)
  }
  nodes.forEach((node: unknown, index) => {
    if (typeof node !== 'string' || !/^rediss?:\/\/[^/]+:\d+\/?$/.test(node)) {
      throw new InvalidOptionError(`cluster.nodes[${index}]`, 'a redis://host:port URL', node)
    }
  })
  const count = positiveInteger('cluster.shards', shards, 12)
  if (count > MAX_CLUSTER_SHARDS) {
    throw new InvalidOptionError('cluster.shards', `at most ${MAX_CLUSTER_SHARDS}`, count)
  }
  return Object.freeze({ nodes: Object.freeze([...(nodes as string[])]), shards: count })
}

function resolveHosts(hosts: unknown): readonly RedisHost[] {
  if (hosts === undefined) return Object.freeze([process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'])
  if (typeof hosts === 'string') {
    throw new InvalidOptionError('hosts', 'a list of Redis hosts, even if there is only one', hosts)
  }
  if (!Array.isArray(hosts) || hosts.length === 0) throw new InvalidOptionError('hosts', 'a non-empty array', hosts)
  return Object.freeze(
    hosts.map((host: unknown, index): RedisHost => {
      if (typeof host === 'string' && /^(rediss?|unix):\/\//.test(host)) return host
      if (isSentinel(host)) return Object.freeze({ ...host, sentinels: Object.freeze([...host.sentinels]) })
      throw new InvalidOptionError(`hosts[${index}]`, 'a redis:// URL or { sentinels, name }', host)
    }),
  )
}

function isSentinel(host: unknown): host is SentinelHost {
  if (typeof host !== 'object' || host === null) return false
  const { sentinels, name } = host as { sentinels?: unknown; name?: unknown }
  return Array.isArray(sentinels) && sentinels.length > 0 && typeof name === 'string' && name !== ''
}

function resolvePrefix(prefix: unknown): string {
  if (prefix === undefined) return 'asgi'
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new InvalidOptionError('prefix', '1-64 characters of letters, digits, _ . : -', prefix)
  }
  return prefix
}

function resolveKeys(keys: unknown): readonly string[] {
  if (keys === undefined) return Object.freeze([])
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string' || key.length === 0)) {
    throw new InvalidOptionError('symmetricEncryptionKeys', 'an array of non-empty strings', keys)
  }
  return Object.freeze([...(keys as string[])])
}

function resolveSerializer(serializer: unknown): 'msgpack' | 'json' {
  if (serializer === undefined) return 'msgpack'
  if (serializer !== 'msgpack' && serializer !== 'json') {
    throw new InvalidOptionError('serializer', "'msgpack' or 'json'", serializer)
  }
  return serializer
}

/** A host for logs and errors: never the password. */
export function describeHost(host: RedisHost): string {
  if (typeof host !== 'string')
    return `sentinel ${host.name} via ${host.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
  try {
    const url = new URL(host)
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`
  } catch {
    return 'an unparseable Redis URL'
  }
}

/**
 * A queue outlives its newest message's expiry, so a reader or sender that comes later still finds (and counts,
 * and acts on) what expired, instead of Redis deleting it silently.
 */
export function queueTtlMs(expiryMs: number): number {
  return expiryMs * 2 + 1_000
}
