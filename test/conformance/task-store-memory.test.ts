import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { describeTaskStore } from './task-store/describe-task-store.js'

describeTaskStore('InMemoryChannelLayer', (options) => new InMemoryChannelLayer(options))
