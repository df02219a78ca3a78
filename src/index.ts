export * from './errors.js'
export {
  DEFAULT_LAYER_OPTIONS,
  InMemoryChannelLayer,
  MAX_NAME_LENGTH,
  type InMemoryLayerOptions,
  RedisChannelLayer,
  type ChannelCapacity,
  type RedisHost,
  type RedisLayerOptions,
  type RedisLayerStats,
  type SentinelHost,
  type ChannelLayer,
  type LayerOptions,
  type LayerStats,
  type Message,
  type MessageValue,
  type ReceiveOptions,
  // WebsocketConsumer's `SendOptions` (from consumers/) keeps the plain name at the root.
  type SendOptions as LayerSendOptions,
} from './layers/index.js'
export type { Logger } from './logger.js'
export {
  getHeader,
  type Application,
  type ChannelScope,
  type Headers,
  type HttpInputEvent,
  type HttpOutputEvent,
  type HttpRequestEvent,
  type HttpResponseBodyEvent,
  type HttpResponseStartEvent,
  type HttpScope,
  type InputEvent,
  type OutputEvent,
  type Receive,
  type Scope,
  type Send,
  type ShutdownEvent,
  type UrlRoute,
  type WebsocketAcceptEvent,
  type WebsocketCloseEvent,
  type WebsocketConnectEvent,
  type WebsocketDisconnectEvent,
  type WebsocketInputEvent,
  type WebsocketOutputEvent,
  type WebsocketReceiveEvent,
  type WebsocketScope,
  type WebsocketSendEvent,
} from './application.js'
export * from '../consumers/index.js'
export * from './routing/index.js'
export * from './middleware/index.js'
export * from './server/index.js'
export { runWorker, type WorkerHandle, type WorkerOptions } from './worker/worker.js'
export {
  DEFAULT_TASK_STORE_OPTIONS,
  hasTaskStore,
  type ClaimedTask,
  type DeadLetter,
  type TaskCapableLayer,
  type TaskFailure,
  type TaskState,
  type TaskStatus,
  type TaskStore,
  type TaskStoreOptions,
} from './tasks/task-store.js'
export { clientModuleSource } from './client/browser-bundle.js'
