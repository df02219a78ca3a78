import { hostname } from 'node:os'

import type { Logger } from '../logger.js'
import type { ClaimedTask, TaskStore, WorkerReport } from '../tasks/task-store.js'

/** Counters reach the registry (inspect, the dashboard) this soon after a change, and no more often. */
const REPORT_SOON_MS = 1_000

export interface TaskUpkeepOptions {
  readonly store: TaskStore
  readonly channel: string
  readonly concurrency: number
  readonly visibilityMs: number
  readonly log: Logger
  /** Every claim the runner holds (running, prefetched or settling): what renewal extends. */
  held(): Iterable<ClaimedTask>
  /** The runner's counters for its registry report. */
  counters(): Counters
  /** Claims whose task was cancelled (found on a renewal tick): their attempts are to abort. */
  cancelled?(tasks: readonly ClaimedTask[]): void
}

type Counters = Pick<WorkerReport, 'inFlight' | 'processed' | 'failed' | 'retried' | 'dead'>

function sameCounters(a: Counters | undefined, b: Counters): boolean {
  return (
    a !== undefined &&
    a.inFlight === b.inFlight &&
    a.processed === b.processed &&
    a.failed === b.failed &&
    a.retried === b.retried &&
    a.dead === b.dead
  )
}

/**
 * What a TaskRunner does on a timer besides claiming: one renewal call per tick extends every claim it holds,
 * a report keeps it in the store's worker registry, and a stalled check recovers the claims of dead workers.
 */
export class TaskUpkeep {
  /** This worker's id in the store's worker registry: `<host>:<pid>:<channel>`. */
  readonly workerId: string
  private readonly host = hostname()
  private readonly startedAt = Date.now()
  private readonly timers: NodeJS.Timeout[] = []
  /** Set once the worker was removed from the registry: a report still on its way must not re-add it. */
  private forgotten = false
  /** A report scheduled by `reportSoon`. */
  private soon: NodeJS.Timeout | undefined
  private lastReportAt = Number.NEGATIVE_INFINITY
  /** The counters as last reported, so an idle worker's polls do not report unchanged ones. */
  private reported: Counters | undefined

  constructor(private readonly options: TaskUpkeepOptions) {
    this.workerId = `${this.host}:${process.pid}:${options.channel}`
  }

  /** How often claims are renewed and the worker reports: a third of the visibility timeout. */
  get renewalMs(): number {
    return Math.max(50, Math.floor(this.options.visibilityMs / 3))
  }

  start(): void {
    this.every(this.renewalMs, async () => {
      await this.renew()
      await this.report()
    })
    this.every(this.renewalMs, () => this.recover())
    void this.recover()
    void this.report()
  }

  /**
   * The counters changed: report within REPORT_SOON_MS, so monitoring sees them within a second, but at most once
   * per REPORT_SOON_MS however busy the worker is (idle, only the renewal tick reports).
   */
  reportSoon(): void {
    if (this.soon !== undefined || this.forgotten || sameCounters(this.reported, this.options.counters())) return
    const waitMs = Math.max(0, this.lastReportAt + REPORT_SOON_MS - Date.now())
    this.soon = setTimeout(() => {
      this.soon = undefined
      void this.report()
    }, waitMs)
    this.soon.unref()
  }

  /** Stops renewing and reporting, and removes the worker from the registry (never fatal). */
  async stop(): Promise<void> {
    for (const interval of this.timers) clearInterval(interval)
    clearTimeout(this.soon)
    this.forgotten = true
    try {
      await this.options.store.forgetWorker(this.workerId)
    } catch (err) {
      this.options.log.debug({ err, channel: this.options.channel }, 'could not remove the worker from the registry')
    }
  }

  /** Pushes every live claim's deadline: one Redis call per tick for the whole worker. */
  private async renew(): Promise<void> {
    const tasks = [...this.options.held()]
    if (tasks.length === 0) return
    try {
      await this.options.store.extend(tasks, this.options.visibilityMs)
    } catch (err) {
      this.options.log.warn({ err, channel: this.options.channel }, 'could not extend task deadlines')
    }
    await this.checkCancelled(tasks)
  }

  /** Tells the runner which held claims were cancelled (from any process): one store call per tick, never fatal. */
  private async checkCancelled(tasks: readonly ClaimedTask[]): Promise<void> {
    const { store, channel, log } = this.options
    try {
      const cancelled = await store.cancelledAmong(tasks)
      if (cancelled.length > 0) this.options.cancelled?.(cancelled)
    } catch (err) {
      log.warn({ err, channel }, 'could not check for cancelled tasks')
    }
  }

  /** Tells the store's worker registry this worker is alive, with its counters (monitoring; never fatal). */
  private async report(): Promise<void> {
    if (this.forgotten) return
    this.lastReportAt = Date.now()
    const { store, channel, concurrency, log } = this.options
    const counters = this.options.counters()
    this.reported = counters
    const report: WorkerReport = {
      id: this.workerId,
      host: this.host,
      pid: process.pid,
      channel,
      concurrency,
      ...counters,
      startedAt: this.startedAt,
      renewalMs: this.renewalMs,
    }
    try {
      await store.reportWorker(report)
    } catch (err) {
      log.debug({ err, channel }, 'could not report the worker')
    }
  }

  private async recover(): Promise<void> {
    try {
      // The second phase waits one renewal tick after the first, whichever worker ran the first.
      const recovered = await this.options.store.recoverStalled(this.options.channel, this.renewalMs)
      if (recovered > 0) this.options.log.warn({ channel: this.options.channel, recovered }, 'recovered stalled tasks')
    } catch (err) {
      this.options.log.warn({ err, channel: this.options.channel }, 'stalled check failed')
    }
    try {
      // Flows whose step ended on a worker that died before moving them on (or whose next send failed).
      const resumed = (await this.options.store.resumeFlows?.()) ?? 0
      if (resumed > 0) this.options.log.info({ channel: this.options.channel, resumed }, 'resumed flows')
    } catch (err) {
      this.options.log.warn({ err, channel: this.options.channel }, 'flow sweep failed')
    }
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task(), ms)
    timer.unref()
    this.timers.push(timer)
  }
}
