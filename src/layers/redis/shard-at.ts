import type { RedisShard } from './redis-shard.js'

/** The shard at `index`; the consistent hash never returns an index outside the ring. */
export function shardAt(shards: readonly RedisShard[], index: number): RedisShard {
  const shard = shards[index]
  if (shard === undefined) throw new RangeError(`no Redis shard ${index} of ${shards.length}`)
  return shard
}
