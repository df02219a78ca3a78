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
export { isLoopbackHost, LOOPBACK_HOST_REFUSAL, MISDIRECTED_REQUEST, requestHost } from './server/loopback-host.js'
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
  type WorkerReport,
} from './tasks/task-store.js'
export { BacklogMonitor, type BacklogAlert, type BacklogMonitorOptions } from './monitoring/backlog-monitor.js'
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
export {
  createMetrics,
  type MetricsOptions,
  type ServerStatsSource,
  type SwitchyardMetrics,
} from './monitoring/metrics.js'
export { switchyardMetrics, type SwitchyardMetricsOptions } from './monitoring/metrics-plugin.js'
export { switchyardDashboard } from './monitoring/dashboard/dashboard-plugin.js'
export { DEFAULT_DASHBOARD_OPTIONS, type DashboardOptions } from './monitoring/dashboard/dashboard-options.js'
export type { DashboardState } from './monitoring/dashboard/dashboard-api.js'
export type { HistoryPoint } from './monitoring/dashboard/history.js'
