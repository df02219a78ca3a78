import type { Registry } from 'prom-client'

import type { ChannelLayer, LayerStats } from '../layers/channel-layer.js'
import type { RedisLayerStats } from '../layers/redis/redis-layer.js'
import type { ServerStats } from '../server/server-stats.js'
import type { BacklogMonitor } from './backlog-monitor.js'
import type { MetricsSink } from './metrics-sink.js'
import { isInspectable } from '../layers/snapshot.js'
import { promClient } from './prom-client.js'

/** Where a group of metrics registers, and the prefix of their names. */
export interface MetricTarget {
  readonly registers: Registry[]
  readonly prefix: string
}

const FANOUT_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]
const TASK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

/** Counters the layer keeps (`stats()`), read at scrape time; without a layer they read 0. */
export function registerLayerMetrics(target: MetricTarget, layer: ChannelLayer | undefined): void {
  const stats = (): LayerStats | undefined => layer?.stats()
  const mirrored: readonly [name: string, help: string, read: () => number | undefined][] = [
    ['layer_messages_sent_total', 'Messages accepted into a channel.', () => stats()?.sent],
    ['layer_messages_received_total', 'Messages handed to a receive.', () => stats()?.received],
    ['layer_sends_rejected_total', 'Sends refused with ChannelFullError.', () => stats()?.rejected],
    ['group_sends_total', 'groupSend calls.', () => stats()?.groupSends],
    ['redis_errors_total', 'Redis client connection errors.', () => redisStats(stats())?.redisErrors],
    ['redis_reconnects_total', 'Redis reconnections after a lost connection.', () => redisStats(stats())?.reconnects],
    [
      'redis_replica_wait_shortfalls_total',
      'Writes fewer replicas than waitForReplicas asks for acknowledged in time (each failed its call).',
      () => redisStats(stats())?.replicaWaitShortfalls,
    ],
  ]
  for (const [name, help, read] of mirrored) counterFromStats(target, name, help, read)
}

/**
 * Lost messages by reason, from the layer and the server: capacity (a group send's full members),
 * expired, decode_failed (Redis), slow_client (outbound frames dropped), inbound_overflow (sockets closed).
 */
export function registerDropMetrics(
  target: MetricTarget,
  layer: ChannelLayer | undefined,
  server: () => ServerStats | undefined,
): void {
  const { Counter } = promClient()
  new Counter({
    name: `${target.prefix}dropped_messages_total`,
    help: 'Messages lost, by reason: capacity, expired, decode_failed, slow_client, inbound_overflow.',
    labelNames: ['reason'] as const,
    registers: target.registers,
    collect() {
      this.reset()
      const stats = layer?.stats()
      const serverStats = server()
      const reasons: Record<string, number | undefined> = {
        capacity: stats?.dropped,
        expired: stats?.expired,
        decode_failed: redisStats(stats)?.decodeFailed,
        slow_client: serverStats?.droppedOutbound,
        inbound_overflow: serverStats?.inboundOverflows,
      }
      for (const [reason, value] of Object.entries(reasons)) if (value !== undefined) this.inc({ reason }, value)
    },
  })
}

/** The server's live counts and counters (`app.switchyard.stats()`), read at scrape time. */
export function registerServerMetrics(target: MetricTarget, server: () => ServerStats | undefined): void {
  const { Counter, Gauge } = promClient()
  const { prefix, registers } = target
  new Gauge({
    name: `${prefix}connections`,
    help: 'Live WebSocket connections.',
    registers,
    collect() {
      this.set(server()?.connections ?? 0)
    },
  })
  new Gauge({
    name: `${prefix}http_requests_in_flight`,
    help: 'Live HTTP requests.',
    registers,
    collect() {
      this.set(server()?.httpRequests ?? 0)
    },
  })
  new Counter({
    name: `${prefix}handshakes_total`,
    help: 'WebSocket handshakes, by outcome (rejected includes timeouts).',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      this.reset()
      const stats = server()
      if (stats === undefined) return
      this.inc({ outcome: 'accepted' }, stats.accepted)
      this.inc({ outcome: 'rejected' }, stats.rejected)
    },
  })
  counterFromStats(target, 'application_errors_total', 'Applications that threw.', () => server()?.applicationErrors)
}

/**
 * Backlog per channel from `layer.inspect()` (when the layer has it), the longest `maxChannels` only. Returns the
 * channels the current scrape saw (after its inspect() settles), for metrics collected alongside.
 */
export function registerBacklogMetrics(
  target: MetricTarget,
  layer: ChannelLayer | undefined,
  maxChannels: number,
): () => Promise<readonly string[]> {
  const { Counter, Gauge } = promClient()
  let inspectFailures = 0
  let scraped: readonly string[] = []
  // Set synchronously when the backlog gauge starts collecting: prom-client collects every metric of a scrape at
  // once, so the error counter waits for this scrape's inspect() before it reports.
  let inspecting: Promise<void> = Promise.resolve()
  new Gauge({
    name: `${target.prefix}channel_backlog`,
    help: `Messages waiting per channel (from layer.inspect(); at most ${String(maxChannels)} channels).`,
    labelNames: ['channel'] as const,
    registers: target.registers,
    async collect() {
      this.reset()
      scraped = []
      if (!isInspectable(layer)) return
      // Through then(): an inspect() that throws instead of rejecting must not fail the whole scrape.
      const read = Promise.resolve()
        .then(() => layer.inspect({ maxChannels }))
        .then((snapshot) => {
          const longest = [...snapshot.channels].sort((a, b) => b.backlog - a.backlog)
          const kept = longest.slice(0, maxChannels)
          for (const channel of kept) this.set({ channel: channel.name }, channel.backlog)
          scraped = kept.map((channel) => channel.name)
        })
      inspecting = read.catch(() => {
        inspectFailures++
      })
      await inspecting
    },
  })
  new Counter({
    name: `${target.prefix}scrape_errors_total`,
    help: 'Sources that failed during a scrape, by source.',
    labelNames: ['source'] as const,
    registers: target.registers,
    async collect() {
      await inspecting
      this.reset()
      this.inc({ source: 'inspect' }, inspectFailures)
    },
  })
  return async () => {
    await inspecting
    return scraped
  }
}

/**
 * A backlog monitor's thresholds and latest alerts per channel: `channel_backlog_threshold` for every channel of
 * this scrape (and of the alerts) that a threshold matches, and `channel_backlog_over_threshold` 1 for the
 * channels of the monitor's latest check over theirs, 0 for the others.
 */
export function registerBacklogThresholdMetrics(
  target: MetricTarget,
  monitor: BacklogMonitor,
  scrapedChannels: () => Promise<readonly string[]>,
): void {
  const { Gauge } = promClient()
  const labels = { labelNames: ['channel'] as const, registers: target.registers }
  // Both gauges read the same scrape; each collects on its own, so each reads it.
  const thresholds = async (): Promise<Map<string, number>> => {
    const channels = new Set([...(await scrapedChannels()), ...monitor.alerts.map((alert) => alert.channel)])
    const found = new Map<string, number>()
    for (const channel of channels) {
      const threshold = monitor.thresholdFor(channel)
      if (threshold !== undefined) found.set(channel, threshold)
    }
    return found
  }
  new Gauge({
    name: `${target.prefix}channel_backlog_threshold`,
    help: 'The backlog monitor threshold that applies to each channel.',
    ...labels,
    async collect() {
      const found = await thresholds()
      this.reset()
      for (const [channel, threshold] of found) this.set({ channel }, threshold)
    },
  })
  new Gauge({
    name: `${target.prefix}channel_backlog_over_threshold`,
    help: "1 when the channel's backlog was over its threshold at the backlog monitor's latest check, else 0.",
    ...labels,
    async collect() {
      const found = await thresholds()
      const over = new Set(monitor.alerts.map((alert) => alert.channel))
      this.reset()
      for (const channel of found.keys()) this.set({ channel }, over.has(channel) ? 1 : 0)
    },
  })
}

/** The metrics no counter keeps, and the sink that records them as they happen. */
export function registerEventMetrics(target: MetricTarget): MetricsSink {
  const { Counter, Histogram } = promClient()
  const { prefix, registers } = target
  const consumerMessages = new Counter({
    name: `${prefix}consumer_messages_total`,
    help: 'Messages per consumer class: in (dispatched to a handler), out (sent to the client).',
    labelNames: ['consumer', 'direction'] as const,
    registers,
  })
  const fanOut = new Histogram({
    name: `${prefix}group_send_fanout`,
    help: 'Member channels each groupSend reached.',
    buckets: FANOUT_BUCKETS,
    registers,
  })
  const taskDuration = new Histogram({
    name: `${prefix}task_duration_seconds`,
    help: 'Task attempt run time, by channel and outcome (succeeded, retried, dead).',
    labelNames: ['channel', 'outcome'] as const,
    buckets: TASK_DURATION_BUCKETS,
    registers,
  })
  const labels = { labelNames: ['channel'] as const, registers }
  const retries = new Counter({ name: `${prefix}task_retries_total`, help: 'Task attempts retried.', ...labels })
  const dead = new Counter({ name: `${prefix}task_dead_letters_total`, help: 'Tasks dead-lettered.', ...labels })
  const refused = new Counter({
    name: `${prefix}layer_messages_refused_total`,
    help: 'Layer messages a consumer refused: a client event type (websocket.*, http.*), or no handler for the type.',
    labelNames: ['consumer', 'reason'] as const,
    registers,
  })
  const clientErrors = new Counter({
    name: `${prefix}client_errors_total`,
    help: 'Connections a consumer closed over what its client sent (malformed JSON, a binary frame, unusable data).',
    labelNames: ['consumer', 'code'] as const,
    registers,
  })
  return {
    consumerMessageIn: (consumer) => {
      consumerMessages.inc({ consumer, direction: 'in' })
    },
    consumerMessageOut: (consumer) => {
      consumerMessages.inc({ consumer, direction: 'out' })
    },
    taskAttempt: (channel, outcome, seconds) => {
      taskDuration.observe({ channel, outcome }, seconds)
      if (outcome === 'retried') retries.inc({ channel })
      if (outcome === 'dead') dead.inc({ channel })
    },
    groupSend: (reached) => {
      fanOut.observe(reached)
    },
    layerMessageRefused: (consumer, reason) => {
      refused.inc({ consumer, reason })
    },
    clientError: (consumer, code) => {
      clientErrors.inc({ consumer, code })
    },
  }
}

/** A counter that mirrors a monotonic count kept elsewhere, read at scrape time; an absent source reads 0. */
function counterFromStats(target: MetricTarget, name: string, help: string, read: () => number | undefined): void {
  const { Counter } = promClient()
  new Counter({
    name: target.prefix + name,
    help,
    registers: target.registers,
    collect() {
      this.reset()
      this.inc(read() ?? 0)
    },
  })
}

function redisStats(stats: LayerStats | undefined): RedisLayerStats | undefined {
  return stats !== undefined && 'redisErrors' in stats ? (stats as RedisLayerStats) : undefined
}
