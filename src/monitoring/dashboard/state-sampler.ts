import type { FastifyBaseLogger } from 'fastify'

import type { ChannelLayer } from '../../layers/channel-layer.js'
import { isInspectable, type LayerSnapshot } from '../../layers/snapshot.js'
import { History, pointOf, type HistoryPoint } from './history.js'

/**
 * Reads the layer for the dashboard: `snapshot()` shares one `inspect()` among concurrent callers (many open
 * dashboards cost one read), and a timer adds a chart point every `sampleIntervalMs` (one timer per plugin,
 * unref'd; a sample still running when the next is due is not doubled).
 *
 * @example
 * ```ts
 * const sampler = new StateSampler(layer, { sampleIntervalMs: 10_000, historyMs: 3_600_000 }, app.log)
 * sampler.start()
 * const { snapshot, history } = { snapshot: await sampler.snapshot(), history: sampler.history() }
 * sampler.stop()
 * ```
 */
export class StateSampler {
  private readonly ring: History
  private pending: Promise<LayerSnapshot | null> | undefined
  private timer: NodeJS.Timeout | undefined
  private failures = 0

  constructor(
    private readonly layer: ChannelLayer,
    private readonly timing: { readonly sampleIntervalMs: number; readonly historyMs: number },
    private readonly log: FastifyBaseLogger,
  ) {
    this.ring = new History(Math.max(1, Math.floor(timing.historyMs / timing.sampleIntervalMs)))
  }

  /** The layer's snapshot now, or null when the layer has no `inspect()`. */
  snapshot(): Promise<LayerSnapshot | null> {
    const layer = this.layer
    if (!isInspectable(layer)) return Promise.resolve(null)
    this.pending ??= layer.inspect().finally(() => (this.pending = undefined))
    return this.pending
  }

  history(): HistoryPoint[] {
    return this.ring.points()
  }

  start(): void {
    if (this.timer !== undefined || !isInspectable(this.layer)) return
    let sampling = false
    this.timer = setInterval(() => {
      if (sampling) return
      sampling = true
      void this.sample().finally(() => (sampling = false))
    }, this.timing.sampleIntervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async sample(): Promise<void> {
    try {
      const snapshot = await this.snapshot()
      if (snapshot !== null) this.ring.add(pointOf(snapshot))
    } catch (err) {
      // Log the first failure of a run, then every hundredth: a layer that is down fails every tick.
      if (this.failures++ % 100 === 0) this.log.warn({ err, failures: this.failures }, 'dashboard sample failed')
      return
    }
    this.failures = 0
  }
}
