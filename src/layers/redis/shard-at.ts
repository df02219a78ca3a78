import type { RedisShard } from './redis-shard.js'
import { consistentHash } from './shard.js'

/** The shard at `index`; the consistent hash never returns an index outside the ring. */
export function shardAt(shards: readonly RedisShard[], index: number): RedisShard {
  const shard = shards[index]
  if (shard === undefined) throw new RangeError(`no Redis shard ${index} of ${shards.length}`)
  return shard
}

/** The shard holding a group (its members, history and presence): where channels_redis' consistent hash puts it. */
export function shardForGroup(shards: readonly RedisShard[], group: string): RedisShard {
  return shardAt(shards, consistentHash(group, shards.length))
}
