import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeTaskStore } from './task-store/describe-task-store.js'

const nodes = inject('clusterUrls')

// The task-store suite on a real Redis Cluster: a task's queue, claims, states, dead letters and flow outbox share
// its channel's shard (one hash slot); flows, schedules and registries sit on other shards, so on other masters.
describeTaskStore(
  'RedisChannelLayer on a cluster',
  (options) => new RedisChannelLayer({ cluster: { nodes }, prefix: `q${randomBytes(6).toString('hex')}`, ...options }),
)
