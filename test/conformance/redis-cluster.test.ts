import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeChannelLayer } from './describe-channel-layer.js'

const nodes = inject('clusterUrls')

// The whole suite on a real Redis Cluster (test setup: 3 masters, 3 replicas): every shard's keys in one hash slot,
// twelve shards spread over the masters. Each layer gets its own prefix, so flush never reaches another test's keys.
// Each layer starts ready: a fresh cluster client's first command waits for the slot map and the masters'
// connections (80-130 ms here), and a send's expiry counts from the call (docs/topics/redis.md), so with the suite's
// 100 ms expiries a first send expired on its way and the receive after it waited for good.
describeChannelLayer('RedisChannelLayer on a cluster', async (options) => {
  const layer = new RedisChannelLayer({ cluster: { nodes }, prefix: `t${randomBytes(6).toString('hex')}`, ...options })
  await layer.ready()
  return layer
})
