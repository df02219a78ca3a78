/**
 * Runs `purge` every `intervalMs` while `pending()` says there is something to purge, and sleeps otherwise: `arm()`
 * when something purgeable arrives. An idle process is then not woken every interval for nothing (on a small VM a
 * wake of cold code costs about half a millisecond of CPU), and what arrives is still purged within `intervalMs` of
 * coming due. One unref'd timer at most.
 *
 * @example
 * ```ts
 * const purges = new PurgeTimer(1_000, () => local.purgeExpired(), () => local.queued > 0)
 * const local = new LocalChannels(capacityOf, onExpired, () => purges.arm())
 * purges.stop() // on close
 * ```
 */
export class PurgeTimer {
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly intervalMs: number,
    private readonly purge: () => void,
    private readonly pending: () => boolean,
  ) {}

  /** Purges in `intervalMs`, and every `intervalMs` after while `pending()`; a no-op while already armed. */
  arm(): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.purge()
      if (this.pending()) this.arm()
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Ends it for good (the owner closed). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Timers this holds: 1 while armed, else 0. */
  get timers(): number {
    return this.timer === undefined ? 0 : 1
  }
}
