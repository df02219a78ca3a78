export type { ChannelLayer, LayerStats, Message, MessageValue, ReceiveOptions } from './channel-layer.js'
export { DEFAULT_LAYER_OPTIONS, type ChannelCapacity, type LayerOptions } from './layer-options.js'
export { InMemoryChannelLayer } from './memory.js'
export { MAX_NAME_LENGTH } from './names.js'
