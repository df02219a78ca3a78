/**
 * `switchyard-channels/monitoring`: Prometheus metrics, the live dashboard and backlog alerts. prom-client loads
 * with the first `createMetrics()`. The events behind the counters are published on `node:diagnostics_channel`
 * (`DiagnosticsEvents` names the channels), so an APM can subscribe without any of this.
 */
export type { DiagnosticsChannelName, DiagnosticsEvents, TaskOutcome } from '../diagnostics.js'
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
  type ServerSnapshot,
  type WorkerSnapshot,
} from '../layers/snapshot.js'
export { BacklogMonitor, type BacklogAlert, type BacklogMonitorOptions } from './backlog-monitor.js'
export { DEFAULT_DASHBOARD_OPTIONS, type DashboardOptions } from './dashboard/dashboard-options.js'
export type { DashboardState } from './dashboard/dashboard-api.js'
export { switchyardDashboard } from './dashboard/dashboard-plugin.js'
export type { HistoryPoint } from './dashboard/history.js'
export { switchyardMetrics, type SwitchyardMetricsOptions } from './metrics-plugin.js'
export {
  createMetrics,
  DEFAULT_METRICS_OPTIONS,
  type MetricsOptions,
  type ServerStatsSource,
  type SwitchyardMetrics,
} from './metrics.js'
