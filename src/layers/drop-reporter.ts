import type { Logger } from '../logger.js'

/** Logs dropped deliveries at most once per interval, with the count since the last line, so a flood of drops
 * cannot flood the log. */
export class DropReporter {
  private pending = 0
  private lastLogAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  record(group: string, count: number): void {
    this.pending += count
    const now = Date.now()
    if (now - this.lastLogAt < this.intervalMs) return
    this.log.warn({ group, dropped: this.pending }, 'group send skipped channels at capacity')
    this.pending = 0
    this.lastLogAt = now
  }
}
