export {
  ChannelFullError,
  ChannelNotLocalError,
  InvalidChannelNameError,
  InvalidMessageError,
  InvalidOptionError,
  LayerClosedError,
  MessageNotSerializableError,
  MessageTooLargeError,
} from './errors.js'
export {
  DEFAULT_LAYER_OPTIONS,
  InMemoryChannelLayer,
  MAX_NAME_LENGTH,
  type ChannelCapacity,
  type ChannelLayer,
  type LayerOptions,
  type LayerStats,
  type Message,
  type MessageValue,
  type ReceiveOptions,
} from './layers/index.js'
export type { Logger } from './logger.js'
