/** How often the mover runs while delayed messages wait somewhere, or while this process has idle task workers. */
export const ACTIVE_MOVE_MS = 250
/**
 * How often it runs while none wait: each run wakes the process and costs a script call, which was most of an
 * idle server's CPU (issue 18). A delayed send arms its own layer's mover at once, so this only bounds how late
 * a message is moved whose sender exited before it came due, and then only by less than its delay.
 */
export const IDLE_MOVE_MS = 1_000

export interface DelayedMoverHooks {
  /** Moves what is due; resolves whether delayed messages still wait (true when it cannot tell). */
  move(): Promise<boolean>
  /** Whether this process has task workers waiting for work: a retry come due must wake them promptly. */
  hasIdleWorkers(): boolean
}

/**
 * Runs `move` every ACTIVE_MOVE_MS while delayed messages wait (on any process's account: any live process moves
 * any due message) or this process has idle task workers, and every IDLE_MOVE_MS otherwise. One run at a time: the
 * next is timed when one ends.
 *
 * @example
 * ```ts
 * const mover = new DelayedMover({ move: () => moveDueDelayed(ctx), hasIdleWorkers: () => false })
 * mover.start()
 * mover.delayedSent() // after a delayed send: moved within ACTIVE_MOVE_MS of its due time
 * mover.stop()
 * ```
 */
export class DelayedMover {
  private timer: NodeJS.Timeout | undefined
  /** When the armed timer fires (ms since the epoch). */
  private firesAt = Number.POSITIVE_INFINITY
  private running = false
  /** A delayed send happened while a run was in flight: the next run comes at the active pace. */
  private sentDuringRun = false
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

  /** This layer queued a delayed message: back to the active pace until none wait. */
  delayedSent(): void {
    if (this.stopped) return
    if (this.running) {
      this.sentDuringRun = true
      return
    }
    if (this.firesAt > Date.now() + ACTIVE_MOVE_MS) this.arm(ACTIVE_MOVE_MS)
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer)
    this.firesAt = Date.now() + delayMs
    this.timer = setTimeout(() => {
      void this.run()
    }, delayMs)
    this.timer.unref()
  }

  private async run(): Promise<void> {
    this.timer = undefined
    this.running = true
    this.sentDuringRun = false
    let waiting = true
    try {
      waiting = await this.hooks.move()
    } catch {
      // moveDueDelayed logs and never rejects; a hook that does is treated as "messages may wait".
    }
    this.running = false
    if (this.stopped) return
    const active = waiting || this.sentDuringRun || this.hooks.hasIdleWorkers()
    this.arm(active ? ACTIVE_MOVE_MS : IDLE_MOVE_MS)
  }
}
