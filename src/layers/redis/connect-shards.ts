import type { Logger } from '../../logger.js'
import { ClusterConnection } from './cluster-connection.js'
import { ClusterShard } from './cluster-shard.js'
import { clusterTags } from './cluster-slots.js'
import { HostShard } from './host-shard.js'
import { RedisKeys } from './keys.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'

export interface ConnectedShards {
  readonly shards: RedisShard[]
  /** The cluster client every shard shares (option `cluster`). */
  readonly cluster: ClusterConnection | undefined
}

/**
 * One shard per host, or per hash tag of a cluster (cluster-shard.ts), all on one cluster client. `onReconnect`
 * gets the index of each shard whose connection came back.
 */
export function connectShards(
  options: ResolvedRedisOptions,
  log: Logger,
  onReconnect: (index: number) => void,
): ConnectedShards {
  const { cluster, retryWindowMs } = options
  if (cluster === undefined) {
    const keys = new RedisKeys(options.prefix)
    const shards = options.hosts.map(
      (host, index) =>
        new HostShard(host, keys, retryWindowMs, log, () => {
          onReconnect(index)
        }),
    )
    return { shards, cluster: undefined }
  }
  const tags = clusterTags(options.prefix, cluster.shards)
  const connection = new ClusterConnection(cluster, log, () => {
    tags.forEach((_, index) => {
      onReconnect(index)
    })
  })
  const shards = tags.map((tag, index) => new ClusterShard(connection, tag, index === 0, retryWindowMs, log))
  return { shards, cluster: connection }
}
