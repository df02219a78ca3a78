import type { LayerStats } from '../channel-layer.js'
import { LayerCounters } from '../layer-stats.js'
import type { RedisShard } from './redis-shard.js'

/** Counters of a Redis layer: the shared ones plus Redis' own. */
export interface RedisLayerStats extends LayerStats {
  /** Payloads that could not be decrypted or decoded (wrong keys, expired tokens), dropped. */
  readonly decodeFailed: number
  /** Connection errors reported by the Redis clients. */
  readonly redisErrors: number
  /** Reconnections after a lost connection. */
  readonly reconnects: number
  /** Dead processes whose channels this process removed from their groups. */
  readonly staleProcessesSwept: number
  /**
   * Writes that ran but that fewer replicas than `waitForReplicas` asks for acknowledged within its timeout: each
   * failed its call with `RedisUnavailableError`. Rising means replicas are missing or lagging.
   */
  readonly replicaWaitShortfalls: number
}

/** The mutable counters behind a Redis layer's `stats()`; its clients count their own errors and reconnects. */
export class RedisCounters extends LayerCounters {
  decodeFailed = 0
  staleProcessesSwept = 0

  redisSnapshot(shards: readonly RedisShard[]): RedisLayerStats {
    return Object.freeze({
      ...this.snapshot(),
      decodeFailed: this.decodeFailed,
      redisErrors: shards.reduce((sum, shard) => sum + shard.errors, 0),
      reconnects: shards.reduce((sum, shard) => sum + shard.reconnects, 0),
      staleProcessesSwept: this.staleProcessesSwept,
      replicaWaitShortfalls: shards.reduce((sum, shard) => sum + shard.replicaShortfalls, 0),
    })
  }
}
