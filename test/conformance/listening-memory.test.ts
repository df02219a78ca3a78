import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { describeListeningReceiver } from './listening/describe-listening-receiver.js'

describeListeningReceiver('InMemoryChannelLayer', (options) => new InMemoryChannelLayer(options))
