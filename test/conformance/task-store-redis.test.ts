import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeTaskStore } from './task-store/describe-task-store.js'

const redisUrl = inject('redisUrl')

const UNCHECKED = 'RedisTaskStore does not validate its arguments, as MemoryTaskStore does'

// Each layer gets its own fixed-length prefix, so flush (SCAN prefix*) can never reach another test's keys.
describeTaskStore(
  'RedisChannelLayer',
  (options) => new RedisChannelLayer({ hosts: [redisUrl], prefix: `q${randomBytes(6).toString('hex')}`, ...options }),
  {
    'claim rejects a bad max or visibilityMs, naming it': UNCHECKED,
    'rejects an invalid channel name': UNCHECKED,
    'retry and settle reject a bad delayMs before changing anything': UNCHECKED,
    'extend rejects a bad visibilityMs': UNCHECKED,
    'listDeadLetters rejects a bad limit': `${UNCHECKED} (limit 0 lists every dead letter)`,
    'purgeDeadLetters rejects a negative olderThanMs': `${UNCHECKED} (-1 purges the newest too)`,
    'replayDeadLetters rejects ids that are not an array': UNCHECKED,
    'rejects every task store call with LayerClosedError':
      'after close() its calls retry the closed connection until RedisUnavailableError, and waitForTasks resolves',
  },
)
