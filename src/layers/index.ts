export type { ChannelLayer, LayerStats, Message, MessageValue, ReceiveOptions, SendOptions } from './channel-layer.js'
export { DEFAULT_LAYER_OPTIONS, type ChannelCapacity, type LayerOptions } from './layer-options.js'
export { InMemoryChannelLayer, type InMemoryLayerOptions } from './memory/memory-layer.js'
export { MAX_NAME_LENGTH } from './names.js'
