import { InMemoryChannelLayer } from '../../src/index.js'
import { describePresence } from './presence/describe-presence.js'

describePresence('InMemoryChannelLayer', (options) => new InMemoryChannelLayer(options))
