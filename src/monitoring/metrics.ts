import type { Registry } from 'prom-client'

import { InvalidOptionError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import type { ServerStats } from '../server/server-stats.js'
import { BacklogMonitor } from './backlog-monitor.js'
import {
  registerBacklogMetrics,
  registerBacklogThresholdMetrics,
  registerDropMetrics,
  registerEventMetrics,
  registerLayerMetrics,
  registerServerMetrics,
} from './metric-collectors.js'
import { addMetricsSink, type MetricsSink } from './metrics-sink.js'
import { promClient } from './prom-client.js'

/** Where server counters come from at scrape time; undefined when there is no server (yet). */
export type ServerStatsSource = () => ServerStats | undefined

export interface MetricsOptions {
  /** The layer whose `stats()` (and `inspect()` backlog, when it has one) each scrape reads. */
  readonly layer?: ChannelLayer
  /**
   * The registry the metrics are registered in.
   * @defaultValue a new `Registry`
   */
  readonly registry?: Registry
  /**
   * Prefix of every Switchyard metric name (not of prom-client's default `process_*` and `nodejs_*` metrics).
   * @defaultValue 'switchyard_'
   */
  readonly prefix?: string
  /**
   * Also register prom-client's default metrics (event-loop lag, heap, GC, handles); turn off when the registry
   * already has them.
   * @defaultValue true
   */
  readonly defaultMetrics?: boolean
  /** Server counters read at each scrape; `switchyardMetrics` sets it from `app.switchyard.stats()`. */
  readonly serverStats?: ServerStatsSource
  /**
   * At most this many channels get a `channel_backlog` series (the longest backlogs win).
   * @defaultValue 1000
   */
  readonly maxBacklogChannels?: number
  /**
   * A backlog monitor (started elsewhere) whose thresholds and latest alerts become
   * `channel_backlog_threshold` and `channel_backlog_over_threshold` (0/1) per channel.
   * @defaultValue undefined (no threshold metrics)
   */
  readonly backlog?: BacklogMonitor
}

/** A registry with Switchyard's metrics, and the recorders for the events no counter keeps. */
export interface SwitchyardMetrics extends MetricsSink {
  readonly registry: Registry
  /** Replaces where server counters come from. */
  setServerStats(source: ServerStatsSource | undefined): void
  /** Stops receiving consumer, task and group-send events (the registry keeps what it has). Idempotent. */
  close(): void
}

export const DEFAULT_METRICS_OPTIONS = Object.freeze({
  prefix: 'switchyard_',
  defaultMetrics: true,
  maxBacklogChannels: 1000,
})

/**
 * Prometheus metrics for a Switchyard process. Counters the layer and the server already keep are read at each
 * scrape (nothing extra on their hot paths); consumer messages, task attempts and group-send fan-out are recorded
 * as they happen, through `metrics-sink.ts`, while this instance is open.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ layer })
 * http.createServer(async (_req, res) => res.end(await metrics.registry.metrics()))
 * ```
 */
export function createMetrics(options: MetricsOptions = {}): SwitchyardMetrics {
  const resolved = resolveMetricsOptions(options)
  const { registry, prefix, layer } = resolved
  let serverStats = options.serverStats
  const target = { registers: [registry], prefix }
  const server = (): ServerStats | undefined => serverStats?.()
  registerLayerMetrics(target, layer)
  registerDropMetrics(target, layer, server)
  registerServerMetrics(target, server)
  const scrapedChannels = registerBacklogMetrics(target, layer, resolved.maxBacklogChannels)
  if (resolved.backlog !== undefined) registerBacklogThresholdMetrics(target, resolved.backlog, scrapedChannels)
  const sink = registerEventMetrics(target)
  if (resolved.defaultMetrics) promClient().collectDefaultMetrics({ register: registry })
  const removeSink = addMetricsSink(sink)
  return Object.freeze({
    ...sink,
    registry,
    setServerStats(source: ServerStatsSource | undefined) {
      serverStats = source
    },
    close: removeSink,
  })
}

function resolveMetricsOptions(options: MetricsOptions) {
  const prefix = options.prefix ?? DEFAULT_METRICS_OPTIONS.prefix
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new InvalidOptionError('prefix', 'a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)', prefix)
  }
  const maxBacklogChannels = options.maxBacklogChannels ?? DEFAULT_METRICS_OPTIONS.maxBacklogChannels
  if (!Number.isInteger(maxBacklogChannels) || maxBacklogChannels < 0) {
    throw new InvalidOptionError('maxBacklogChannels', 'a non-negative integer', maxBacklogChannels)
  }
  const backlog: unknown = options.backlog
  if (backlog !== undefined && !(backlog instanceof BacklogMonitor)) {
    throw new InvalidOptionError('backlog', 'a BacklogMonitor', backlog)
  }
  return {
    prefix,
    maxBacklogChannels,
    layer: options.layer,
    backlog,
    registry: options.registry ?? new (promClient().Registry)(),
    defaultMetrics: options.defaultMetrics ?? DEFAULT_METRICS_OPTIONS.defaultMetrics,
  }
}
