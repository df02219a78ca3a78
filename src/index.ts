/**
 * `switchyard-channels`: what apps are written against: consumers, routing, middleware, the server, the worker,
 * the in-memory layer and the errors. The rest has its own entry: `switchyard-channels/redis` (the Redis layer),
 * `/monitoring` (metrics, dashboard, backlog alerts), `/testing` (communicators) and `/client` (the browser
 * client). Importing this entry loads neither ioredis nor prom-client, and reads no Lua file.
 */
export * from './errors.js'
export {
  DEFAULT_LAYER_OPTIONS,
  InMemoryChannelLayer,
  MAX_NAME_LENGTH,
  type InMemoryLayerOptions,
  type ChannelCapacity,
  POSITION_KEY,
  positionOf,
  type ChannelLayer,
  type GroupAddOptions,
  type GroupAddResult,
  type GroupHistory,
  type GroupHistoryOptions,
  type GroupPresence,
  type HistoryOptions,
  type HistorySettings,
  type MessagePosition,
  type PresenceEntry,
  type PresenceInfo,
  type StreamPosition,
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
export * from './protocol/close-codes.js'
export * from './routing/index.js'
export * from './middleware/index.js'
export * from './server/index.js'
export { runWorker, type WorkerHandle, type WorkerOptions } from './worker/worker.js'
export {
  CANCELLABLE_STATUSES,
  DEFAULT_TASK_STORE_OPTIONS,
  MAX_FLOW_STEPS,
  MAX_PROGRESS_BYTES,
  progressGroup,
  type ClaimedTask,
  type DeadLetter,
  type FlowOptions,
  type FlowState,
  type FlowStep,
  type FlowStepState,
  type ScheduleInfo,
  type ScheduleOptions,
  type TaskCancellation,
  type TaskCapableLayer,
  type TaskEvent,
  type TaskFailure,
  type TaskState,
  type TaskStatus,
  type TaskStore,
  type TaskStoreOptions,
  type WorkerReport,
} from './tasks/task-store.js'
export {
  isInspectable,
  isPurgeable,
  type ChannelSnapshot,
  type GroupSnapshot,
  type InspectableLayer,
  type InspectOptions,
  type LayerSnapshot,
  type PurgeableLayer,
  type PurgeOptions,
  type WorkerSnapshot,
} from './layers/snapshot.js'
export { clientModuleSource } from './client/browser-bundle.js'

// Before the subpath entries existed these were imported from the root; they stay here so that code keeps
// working. New code imports them from `switchyard-channels/redis` and `switchyard-channels/monitoring`.
export {
  RedisChannelLayer,
  type RedisHost,
  type RedisLayerOptions,
  type RedisLayerStats,
  type SentinelHost,
} from './layers/redis/index.js'
export {
  BacklogMonitor,
  createMetrics,
  DEFAULT_DASHBOARD_OPTIONS,
  switchyardDashboard,
  switchyardMetrics,
  type BacklogAlert,
  type BacklogMonitorOptions,
  type DashboardOptions,
  type DashboardState,
  type HistoryPoint,
  type MetricsOptions,
  type ServerStatsSource,
  type SwitchyardMetrics,
  type SwitchyardMetricsOptions,
} from './monitoring/index.js'
