import type { TaskRunnerOptions } from './task-runner-options.js'

/**
 * Declares the runner's `rateLimit` for its channel (none removes it: the last worker to start sets the channel's
 * limit, see docs/topics/background-tasks.md "Rate limits"). Fatal when it fails: claiming without the limit
 * declared could start more tasks than a remote service allows.
 */
export async function declareRateLimit(
  options: Pick<TaskRunnerOptions, 'store' | 'channel' | 'rateLimit'>,
): Promise<void> {
  const { store, channel, rateLimit } = options
  if (store.declareRateLimit === undefined) return
  await store.declareRateLimit(channel, rateLimit)
}

/**
 * When a rate-limited channel next lets a claim start a task, as the claim loop learns it: a claim that came back
 * short asks the store how long the window stays full, and the loop sleeps that long (cut short by settlements to
 * send, which go out unclaimed) instead of polling. One extra read per short claim, only on limited channels.
 */
export class RateLimitWait {
  private until = 0

  constructor(
    private readonly options: Pick<TaskRunnerOptions, 'store' | 'channel' | 'rateLimit'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ms the loop must still wait before claiming; 0 when it may claim. */
  remainingMs(): number {
    return Math.max(this.until - this.now(), 0)
  }

  /**
   * After a claim for `asked` tasks brought `got`: when the limit held some back, learns how long it will.
   * Returns true when the loop must wait (it must not also wait for a wake-up: the queue is not empty).
   */
  async afterClaim(asked: number, got: number): Promise<boolean> {
    const { store, channel, rateLimit } = this.options
    if (rateLimit === undefined || got >= asked || store.rateLimitWaitMs === undefined) return false
    const waitMs = await store.rateLimitWaitMs(channel)
    if (waitMs <= 0) return false
    this.until = this.now() + waitMs
    return true
  }
}
