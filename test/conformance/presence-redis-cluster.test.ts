import { randomBytes } from 'node:crypto'

import { inject } from 'vitest'

import type { LayerOptions } from '../../src/index.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describePresence } from './presence/describe-presence.js'

const nodes = inject('clusterUrls')
// Small liveness windows, so the suite's stale-process case takes well under a second.
const LIVENESS = { heartbeatIntervalMs: 100, staleAfterMs: 500 }

function layerOn(prefix: string, options?: LayerOptions): RedisChannelLayer {
  return new RedisChannelLayer({ cluster: { nodes }, prefix, ...LIVENESS, ...options })
}

const newPrefix = (): string => `p${randomBytes(6).toString('hex')}`

// The presence suite on a real Redis Cluster.
describePresence('RedisChannelLayer on a cluster', (options) => layerOn(newPrefix(), options), {
  async makePair(options) {
    const prefix = newPrefix()
    return [layerOn(prefix, options), layerOn(prefix, options)] as const
  },
})
