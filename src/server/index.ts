export { switchyard, type SwitchyardDecoration } from './plugin.js'
export { serve, type RunningServer, type ServeOptions } from './serve.js'
export {
  DEFAULT_SERVER_LIMITS,
  resolveServerOptions,
  type ResolvedSwitchyardOptions,
  type ServerLimits,
  type SwitchyardOptions,
} from './server-options.js'
export type { ServerStats } from './server-stats.js'
