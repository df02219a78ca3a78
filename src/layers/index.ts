export type {
  ChannelLayer,
  GroupAddOptions,
  GroupAddResult,
  GroupHistory,
  GroupHistoryOptions,
  LayerStats,
  Message,
  MessageValue,
  ReceiveOptions,
  SendOptions,
} from './channel-layer.js'
export type { HistoryOptions, HistorySettings } from './history/history-options.js'
export { POSITION_KEY, positionOf, type MessagePosition, type StreamPosition } from './history/positions.js'
export type { GroupPresence, PresenceEntry, PresenceInfo } from './presence/presence-types.js'
export { DEFAULT_LAYER_OPTIONS, type ChannelCapacity, type LayerOptions } from './layer-options.js'
export { InMemoryChannelLayer, type InMemoryLayerOptions } from './memory/memory-layer.js'
export { MAX_NAME_LENGTH } from './names.js'
