import type { Logger } from './logger.js'

/** What a reporter's log line says: the field naming where the drops happened, and the constant message. */
export interface DropKind {
  readonly field: string
  readonly message: string
  /** The field the count goes in. @defaultValue 'dropped' */
  readonly countField?: string
}

export const GROUP_SEND_DROPS: DropKind = Object.freeze({
  field: 'group',
  message: 'group send skipped channels at capacity',
})

/** Logs dropped deliveries at most once per interval, with the count since the last line, so a flood of drops
 * cannot flood the log. */
export class DropReporter {
  private pending = 0
  private lastLogAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly kind: DropKind = GROUP_SEND_DROPS,
  ) {}

  /** Counts `count` drops at `where` (a group, or a channel for other kinds). */
  record(where: string, count: number): void {
    this.pending += count
    const now = Date.now()
    if (now - this.lastLogAt < this.intervalMs) return
    this.log.warn({ [this.kind.field]: where, [this.kind.countField ?? 'dropped']: this.pending }, this.kind.message)
    this.pending = 0
    this.lastLogAt = now
  }
}
