import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeHistory } from './history/describe-history.js'

const redisUrl = inject('redisUrl')

// Each layer gets its own prefix; a sibling shares it, as a second process on the same Redis would.
describeHistory(
  'RedisChannelLayer',
  (options) => new RedisChannelLayer({ hosts: [redisUrl], prefix: `t${randomBytes(6).toString('hex')}`, ...options }),
  {
    makeSibling: (layer, options) =>
      new RedisChannelLayer({
        hosts: [redisUrl],
        prefix: (layer as unknown as { readonly options: { readonly prefix: string } }).options.prefix,
        ...options,
      }),
  },
)
