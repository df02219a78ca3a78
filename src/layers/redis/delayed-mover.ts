/**
 * The pace while this process has idle task workers (a retry another process scheduled must wake them promptly), and
 * after a move that failed.
 */
export const ACTIVE_MOVE_MS = 250
/**
 * The longest wait between runs. Each run wakes the process and costs a script call per shard: at one a second it
 * was a fifth of an idle server's CPU, and a tenth of its CPU in the paced fan-out (issue 18). Every run learns when
 * the earliest waiting message is due and the sender's own layer is armed for its message's due time, so this only
 * bounds how late a message is moved whose sender exited after sending it before anyone else ran a move.
 */
export const IDLE_MOVE_MS = 5_000

export interface DelayedMoverHooks {
  /**
   * Moves what is due; resolves when the earliest delayed message still waiting is due (ms since the epoch),
   * Infinity when none wait.
   */
  move(): Promise<number>
  /** Whether this process has task workers waiting for work: a retry come due must wake them promptly. */
  hasIdleWorkers(): boolean
}

/**
 * Runs `move` when the earliest delayed message (on any process's account: any live process moves any due message)
 * comes due, as the last run reported it or as this layer's own delayed sends say, and at least every IDLE_MOVE_MS;
 * every ACTIVE_MOVE_MS at most while this process has idle task workers. One run at a time: the next is timed
 * when one ends.
 *
 * @example
 * ```ts
 * const mover = new DelayedMover({ move: () => moveDueDelayed(ctx, ACTIVE_MOVE_MS), hasIdleWorkers: () => false })
 * mover.start()
 * mover.delayedSent(Date.now() + 5_000) // moved when due
 * mover.stop()
 * ```
 */
export class DelayedMover {
  private timer: NodeJS.Timeout | undefined
  /** When the armed timer fires (ms since the epoch). */
  private firesAt = Number.POSITIVE_INFINITY
  private running = false
  /** The earliest due time of this layer's delayed sends made while a run was in flight (its reply may predate them). */
  private sentDuringRun = Number.POSITIVE_INFINITY
  private stopped = true

  constructor(private readonly hooks: DelayedMoverHooks) {}

  start(): void {
    this.stopped = false
    this.arm(ACTIVE_MOVE_MS)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** This layer queued a delayed message due at `dueAt` (ms since the epoch): a run comes then at the latest. */
  delayedSent(dueAt: number): void {
    if (this.stopped) return
    if (this.running) {
      this.sentDuringRun = Math.min(this.sentDuringRun, dueAt)
      return
    }
    if (this.firesAt > dueAt) this.arm(dueAt - Date.now())
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer)
    // 1 ms at least, as Node's own timers: a run that left messages due is followed by the next at once.
    const waitMs = Math.max(1, delayMs)
    this.firesAt = Date.now() + waitMs
    this.timer = setTimeout(() => {
      void this.run()
    }, waitMs)
    this.timer.unref()
  }

  private async run(): Promise<void> {
    this.timer = undefined
    this.running = true
    this.sentDuringRun = Number.POSITIVE_INFINITY
    let nextDueAt: number
    try {
      nextDueAt = await this.hooks.move()
    } catch {
      // moveDueDelayed logs and never rejects; a hook that does is treated as "messages may wait": try again soon.
      nextDueAt = Date.now() + ACTIVE_MOVE_MS
    }
    this.running = false
    if (this.stopped) return
    // Due already (a run moves at most 50 channels): at once. Never later than IDLE_MOVE_MS.
    let delayMs = Math.min(Math.min(nextDueAt, this.sentDuringRun) - Date.now(), IDLE_MOVE_MS)
    if (this.hooks.hasIdleWorkers()) delayMs = Math.min(delayMs, ACTIVE_MOVE_MS)
    this.arm(delayMs)
  }
}
