import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeListeningReceiver } from './listening/describe-listening-receiver.js'

const redisUrl = inject('redisUrl')

// Each layer gets its own fixed-length prefix, so flush (SCAN prefix*) can never reach another test's keys.
describeListeningReceiver(
  'RedisChannelLayer',
  (options) => new RedisChannelLayer({ hosts: [redisUrl], prefix: `l${randomBytes(6).toString('hex')}`, ...options }),
)
