import { InvalidOptionError } from '../errors.js'
import { globToRegExp, nonNegativeInteger, positiveInteger } from '../layers/layer-options.js'
import { defaultLogger, type Logger } from '../logger.js'
import type { InspectableLayer } from '../layers/snapshot.js'

/** A channel whose backlog is over its threshold. */
export interface BacklogAlert {
  readonly channel: string
  readonly backlog: number
  readonly threshold: number
  /** The threshold's glob, as given. */
  readonly pattern: string
}

export interface BacklogMonitorOptions {
  /** Read through `inspect()`: the in-memory layer within its process, Redis across processes. */
  readonly layer: InspectableLayer
  /**
   * Channel glob (fnmatch, as `channelCapacity`) -> the most messages its queue may hold before a warning; the
   * first glob that matches a channel applies: `{ 'jobs.*': 1000, emails: 50 }`.
   */
  readonly thresholds: Readonly<Record<string, number>>
  /**
   * How often `start()` checks, and the least time between two warnings for one channel.
   * @defaultValue 10_000
   */
  readonly intervalMs?: number
  /** Where warnings go. @defaultValue the default pino logger */
  readonly logger?: Logger
}

interface Threshold {
  readonly pattern: string
  readonly regExp: RegExp
  readonly max: number
}

/**
 * Watches channel backlogs against per-channel thresholds: the signal to add workers. A channel over its
 * threshold logs `channel backlog over threshold` at most once per interval (however often `check()` runs), and
 * `alerts` holds the latest check's result for dashboards and metrics. One timer for every channel.
 *
 * @example
 * ```ts
 * const monitor = new BacklogMonitor({ layer, thresholds: { 'jobs.*': 1000, emails: 50 } })
 * monitor.start()
 * // later: monitor.alerts -> [{ channel: 'emails', backlog: 72, threshold: 50, pattern: 'emails' }]
 * monitor.stop()
 * ```
 */
export class BacklogMonitor {
  readonly intervalMs: number
  private readonly layer: InspectableLayer
  private readonly thresholds: readonly Threshold[]
  private readonly log: Logger
  /** channel -> when its last warning was logged. */
  private readonly warnedAt = new Map<string, number>()
  private latest: readonly BacklogAlert[] = []
  private timer: NodeJS.Timeout | undefined
  private checking = false

  constructor(options: BacklogMonitorOptions) {
    this.layer = options.layer
    this.intervalMs = positiveInteger('intervalMs', options.intervalMs, 10_000)
    const thresholds: unknown = options.thresholds
    if (typeof thresholds !== 'object' || thresholds === null) {
      throw new InvalidOptionError('thresholds', 'an object of channel globs to backlog limits', thresholds)
    }
    this.thresholds = Object.freeze(
      Object.entries(options.thresholds).map(([pattern, max]) =>
        Object.freeze({
          pattern,
          regExp: globToRegExp(pattern),
          max: nonNegativeInteger(`thresholds.${pattern}`, max, 0),
        }),
      ),
    )
    this.log = (options.logger ?? defaultLogger()).child({ component: 'backlog-monitor' })
  }

  /** The alerts of the latest check. */
  get alerts(): readonly BacklogAlert[] {
    return this.latest
  }

  /** The threshold that applies to `channel` (its first matching glob), or undefined when none matches. */
  thresholdFor(channel: string): number | undefined {
    return this.thresholds.find((candidate) => candidate.regExp.test(channel))?.max
  }

  /** Reads the layer once; resolves to the channels over their threshold, warning for each (once per interval). */
  async check(): Promise<BacklogAlert[]> {
    const snapshot = await this.layer.inspect()
    const now = Date.now()
    const alerts: BacklogAlert[] = []
    for (const { name: channel, backlog } of snapshot.channels) {
      const threshold = this.thresholds.find((candidate) => candidate.regExp.test(channel))
      if (threshold === undefined || backlog <= threshold.max) continue
      alerts.push({ channel, backlog, threshold: threshold.max, pattern: threshold.pattern })
      if (now - (this.warnedAt.get(channel) ?? Number.NEGATIVE_INFINITY) < this.intervalMs) continue
      this.warnedAt.set(channel, now)
      this.log.warn({ channel, backlog, threshold: threshold.max }, 'channel backlog over threshold')
    }
    // Forget warnings older than an interval, so channels that come and go do not grow the map.
    for (const [channel, at] of this.warnedAt) if (now - at >= this.intervalMs) this.warnedAt.delete(channel)
    this.latest = Object.freeze(alerts)
    return alerts
  }

  /** Checks every `intervalMs` until `stop()` (idempotent); the timer does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => void this.tick(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async tick(): Promise<void> {
    // A slow read (a big Redis keyspace) must not stack up checks.
    if (this.checking) return
    this.checking = true
    try {
      await this.check()
    } catch (err) {
      this.log.warn({ err }, 'backlog check failed')
    } finally {
      this.checking = false
    }
  }
}
