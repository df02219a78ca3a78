/**
 * The showcase's monitoring: the dashboard at `/switchyard/` and Prometheus metrics at `/metrics`.
 *
 * The dashboard takes `DASHBOARD_TOKEN` when set (open `/switchyard/?token=<it>` once); without it, it answers
 * loopback clients only, which is all `npm start` listens to anyway. `METRICS_TOKEN` guards `/metrics` the same way
 * (a bearer token for the scraper).
 */
import type { FastifyInstance } from 'fastify'

import type { ChannelLayer } from '../../src/index.js'
import { switchyardDashboard } from '../../src/monitoring/dashboard/dashboard-plugin.js'
import type { DashboardOptions } from '../../src/monitoring/dashboard/dashboard-options.js'
import { switchyardMetrics } from '../../src/monitoring/metrics-plugin.js'

/** Where the index page links to. */
export const DASHBOARD_PATH = '/switchyard/'

export interface MonitoringOptions {
  readonly layer: ChannelLayer
  /** Dashboard options for tests (a faster chart); the token still comes from the environment. */
  readonly dashboard?: Pick<DashboardOptions, 'sampleIntervalMs' | 'historyMs'>
  readonly env?: NodeJS.ProcessEnv
}

/** Registers the dashboard and the metrics endpoint; pass it to `serve({ configure })`. */
export async function mountMonitoring(app: FastifyInstance, options: MonitoringOptions): Promise<void> {
  const env = options.env ?? process.env
  const { layer } = options
  const dashboardToken = nonEmpty(env.DASHBOARD_TOKEN)
  const metricsToken = nonEmpty(env.METRICS_TOKEN)
  await app.register(switchyardDashboard, {
    layer,
    path: DASHBOARD_PATH,
    ...options.dashboard,
    ...(dashboardToken === undefined ? {} : { token: dashboardToken }),
  })
  await app.register(switchyardMetrics, { layer, ...(metricsToken === undefined ? {} : { token: metricsToken }) })
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
