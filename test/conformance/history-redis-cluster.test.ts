import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeHistory } from './history/describe-history.js'

const nodes = inject('clusterUrls')

// The history suite on a real Redis Cluster; a sibling shares the prefix, as a second process would.
describeHistory(
  'RedisChannelLayer on a cluster',
  (options) => new RedisChannelLayer({ cluster: { nodes }, prefix: `t${randomBytes(6).toString('hex')}`, ...options }),
  {
    makeSibling: (layer, options) =>
      new RedisChannelLayer({
        cluster: { nodes },
        prefix: (layer as unknown as { readonly options: { readonly prefix: string } }).options.prefix,
        ...options,
      }),
  },
)
