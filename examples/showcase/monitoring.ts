/**
 * The showcase's monitoring: the dashboard at `/switchyard/` and Prometheus metrics at `/metrics`.
 *
 * The dashboard takes `DASHBOARD_TOKEN` when set (16+ characters; open `/switchyard/?token=<it>` once); without it,
 * it answers loopback clients only, which is all `npm start` listens to anyway, and only by a loopback host name
 * (DNS rebinding). `METRICS_TOKEN` guards `/metrics` the same way (a bearer token for the scraper); without it,
 * `/metrics` answers loopback host names only. A backlog monitor checks channel backlogs against `BACKLOG_THRESHOLDS`
 * (`progress=100,webhooks=100`: channel glob = most queued messages; default `*=1000`): it logs a warning, the
 * dashboard highlights the channel and `/metrics` sets `switchyard_channel_backlog_over_threshold` to 1.
 */
import type { FastifyInstance } from 'fastify'

import { InvalidOptionError, isInspectable, type ChannelLayer } from 'switchyard-channels'
import {
  BacklogMonitor,
  switchyardDashboard,
  switchyardMetrics,
  type DashboardOptions,
} from 'switchyard-channels/monitoring'

/** Where the index page links to. */
export const DASHBOARD_PATH = '/switchyard/'

/** Without `BACKLOG_THRESHOLDS`: warn about any channel holding more than 1000 messages. */
export const DEFAULT_BACKLOG_THRESHOLDS: Readonly<Record<string, number>> = Object.freeze({ '*': 1000 })

export interface MonitoringOptions {
  readonly layer: ChannelLayer
  /** Dashboard options for tests (a faster chart); the token still comes from the environment. */
  readonly dashboard?: Pick<DashboardOptions, 'sampleIntervalMs' | 'historyMs'>
  readonly env?: NodeJS.ProcessEnv
  /** How often the backlog monitor checks, for tests. @defaultValue the monitor's (10 s) */
  readonly backlogIntervalMs?: number
}

/** Registers the dashboard and the metrics endpoint; pass it to `serve({ configure })`. */
export async function mountMonitoring(app: FastifyInstance, options: MonitoringOptions): Promise<void> {
  const env = options.env ?? process.env
  const { layer } = options
  const dashboardToken = nonEmpty(env.DASHBOARD_TOKEN)
  const metricsToken = nonEmpty(env.METRICS_TOKEN)
  const backlog = isInspectable(layer)
    ? new BacklogMonitor({
        layer,
        thresholds: parseBacklogThresholds(env.BACKLOG_THRESHOLDS),
        ...(options.backlogIntervalMs === undefined ? {} : { intervalMs: options.backlogIntervalMs }),
      })
    : undefined
  if (backlog !== undefined) {
    app.addHook('onReady', async () => {
      backlog.start()
    })
    app.addHook('onClose', async () => {
      backlog.stop()
    })
  }
  await app.register(switchyardDashboard, {
    layer,
    path: DASHBOARD_PATH,
    ...options.dashboard,
    ...(dashboardToken === undefined ? {} : { token: dashboardToken }),
    ...(backlog === undefined ? {} : { backlog }),
  })
  await app.register(switchyardMetrics, {
    layer,
    ...(metricsToken === undefined ? {} : { token: metricsToken }),
    ...(backlog === undefined ? {} : { backlog }),
  })
}

/** `progress=100,webhooks=100` (channel glob = most queued messages) as thresholds; the default when unset. */
export function parseBacklogThresholds(value: string | undefined): Readonly<Record<string, number>> {
  if (value === undefined || value.trim() === '') return DEFAULT_BACKLOG_THRESHOLDS
  const thresholds: Record<string, number> = {}
  for (const entry of value.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(entry)
    if (match?.[1] === undefined || match[2] === undefined) {
      throw new InvalidOptionError('BACKLOG_THRESHOLDS', 'comma-separated `<channel glob>=<count>` pairs', value)
    }
    thresholds[match[1]] = Number(match[2])
  }
  return thresholds
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
