import { InMemoryChannelLayer } from '../../src/index.js'
import { describeChannelLayer } from './describe-channel-layer.js'

describeChannelLayer('InMemoryChannelLayer', (options) => new InMemoryChannelLayer(options))
