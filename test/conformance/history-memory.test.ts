import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { describeHistory } from './history/describe-history.js'

describeHistory('InMemoryChannelLayer', (options) => new InMemoryChannelLayer(options))
