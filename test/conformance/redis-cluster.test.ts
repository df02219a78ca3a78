import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeChannelLayer } from './describe-channel-layer.js'

const nodes = inject('clusterUrls')

// The whole suite on a real Redis Cluster (test setup: 3 masters, 3 replicas): every shard's keys in one hash slot,
// twelve shards spread over the masters. Each layer gets its own prefix, so flush never reaches another test's keys.
describeChannelLayer(
  'RedisChannelLayer on a cluster',
  (options) => new RedisChannelLayer({ cluster: { nodes }, prefix: `t${randomBytes(6).toString('hex')}`, ...options }),
)
