import os from 'node:os'

import type { ChannelLayer } from '../layers/channel-layer.js'
import type { Logger } from '../logger.js'
import { settledBy } from '../settled-by.js'
import { hasTaskStore, type ServerReport, type TaskStore } from '../tasks/task-store.js'
import type { ServerStats } from './server-stats.js'

/** The part of a task store the reporter writes to. */
export type ServerRegistry = Pick<TaskStore, 'reportServer' | 'forgetServer'>

/** `<host>:<pid>:<port or 'unlistened'>`: what a server reports under. */
export function serverId(port: number | undefined): string {
  return `${os.hostname()}:${String(process.pid)}:${port === undefined ? 'unlistened' : String(port)}`
}

/** The layer's server registry, when its task store keeps one (both built-in layers do). */
export function serverRegistryOf(layer: ChannelLayer | undefined): ServerRegistry | undefined {
  if (!hasTaskStore(layer)) return undefined
  const tasks = layer.tasks as Partial<TaskStore>
  return typeof tasks.reportServer === 'function' && typeof tasks.forgetServer === 'function' ? layer.tasks : undefined
}

/**
 * Reports a server's connections and counters to the layer's server registry every `intervalMs` (one unref'd
 * timer), so a dashboard on any process lists every server. Reports run one at a time, at most one waiting; a
 * server whose id changed (it started listening) forgets its previous entry; `stop()` forgets the last one.
 *
 * @example
 * ```ts
 * const reporter = new ServerReporter({ registry, stats: () => server.stats(), port: () => 8000, intervalMs: 5000, log })
 * reporter.start()
 * await reporter.report() // now, not in 5 s
 * await reporter.stop()
 * ```
 */
export class ServerReporter {
  private readonly startedAt = Date.now()
  private timer: NodeJS.Timeout | undefined
  private last: Promise<void> = Promise.resolve()
  private waiting = false
  private stopped = false
  private reportedAs: string | undefined
  private failures = 0

  constructor(
    private readonly source: {
      readonly registry: ServerRegistry
      readonly stats: () => ServerStats
      readonly port: () => number | undefined
      readonly intervalMs: number
      readonly log: Logger
    },
  ) {}

  /** Reports every `intervalMs` until `stop()`; idempotent. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setInterval(() => void this.report(), this.source.intervalMs)
    this.timer.unref()
  }

  /** Reports now (after the running report, if any); never rejects (failures are logged). */
  report(): Promise<void> {
    if (this.waiting) return this.last
    this.waiting = true
    this.last = this.last.then(() => {
      this.waiting = false
      return this.send()
    })
    return this.last
  }

  /**
   * Stops reporting and removes this server from the registry, waiting one report interval at most: a layer that
   * does not answer (a frozen or cut-off Redis, where a command waits for ever) must not hold a closing server, whose
   * entry is then shown dead once its report is three intervals old. Idempotent.
   */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
    await settledBy(this.forget(), Date.now() + this.source.intervalMs)
  }

  private async forget(): Promise<void> {
    await this.last
    const id = this.reportedAs
    this.reportedAs = undefined
    if (id === undefined) return
    try {
      await this.source.registry.forgetServer(id)
    } catch (err) {
      this.source.log.warn({ err, server: id }, 'server registry removal failed')
    }
  }

  private async send(): Promise<void> {
    if (this.stopped) return
    const id = serverId(this.source.port())
    const stats = this.source.stats()
    const report: ServerReport = {
      id,
      host: os.hostname(),
      pid: process.pid,
      connections: stats.connections,
      accepted: stats.accepted,
      rejected: stats.rejected,
      closedSlow: stats.closedSlow,
      droppedOutbound: stats.droppedOutbound,
      startedAt: this.startedAt,
      reportIntervalMs: this.source.intervalMs,
    }
    try {
      if (this.reportedAs !== undefined && this.reportedAs !== id) {
        await this.source.registry.forgetServer(this.reportedAs)
      }
      await this.source.registry.reportServer(report)
      this.reportedAs = id
      this.failures = 0
    } catch (err) {
      // Log the first failure of a run, then every hundredth: a layer that is down fails every tick.
      if (this.failures++ % 100 === 0) {
        this.source.log.warn({ err, failures: this.failures }, 'server stats report failed')
      }
    }
  }
}
