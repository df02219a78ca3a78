import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeTaskStore } from './task-store/describe-task-store.js'

const redisUrl = inject('redisUrl')

// Each layer gets its own fixed-length prefix, so flush (SCAN prefix*) can never reach another test's keys.
// No known bugs: one the suite finds goes in a third argument (`KnownBugs`) until it is fixed.
describeTaskStore(
  'RedisChannelLayer',
  (options) => new RedisChannelLayer({ hosts: [redisUrl], prefix: `q${randomBytes(6).toString('hex')}`, ...options }),
)
