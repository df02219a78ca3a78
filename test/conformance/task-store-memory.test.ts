import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { describeTaskStore } from './task-store/describe-task-store.js'

describeTaskStore('InMemoryChannelLayer', (options) => new InMemoryChannelLayer(options), {
  'recovers only once the two checks are graceMs apart':
    'MemoryTaskStore.recoverStalled ignores graceMs: memory-claims.ts keeps whether a claim was flagged, not when',
})
