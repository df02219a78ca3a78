import type { Logger } from '../logger.js'

/** How failed attempts are retried. */
export interface RetryOptions {
  /** Retries after the first attempt; a task runs at most `maxRetries + 1` times. */
  readonly maxRetries: number
  /** Delay before the first retry, in ms. */
  readonly initialDelayMs: number
  /** Each further retry waits `factor` times longer. */
  readonly factor: number
  /** No delay exceeds this, in ms. */
  readonly maxDelayMs: number
  /**
   * Spreads retries so failures that happened together do not retry together: `'none'`; `'full'` (uniform in
   * [0, delay], AWS' "full jitter"); `'equal'` (uniform in [delay/2, delay]); or a ratio r (uniform in
   * [delay, delay * (1 + r)], never shorter than the schedule).
   */
  readonly jitter: 'none' | 'full' | 'equal' | number
}

/** Task-queue defaults: at least 10 s before the first retry, growing to 10 minutes, 5 retries. */
export const DEFAULT_RETRY: RetryOptions = Object.freeze({
  maxRetries: 5,
  initialDelayMs: 10_000,
  factor: 2,
  maxDelayMs: 600_000,
  jitter: 0.2,
})

/** What a RetryingConsumer handler gets besides the message. */
export interface TaskContext {
  /** 1 for the first run, 2 for the first retry, ... */
  readonly attempt: number
  /** The message's `idempotencyKey`, or a stable hash of the stored message. */
  readonly taskId: string
  readonly channel: string
  /** Aborted when the attempt times out (`static timeoutMs`) or the worker shuts down past its grace period. */
  readonly signal: AbortSignal
  /** A child logger bound to `{ channel, taskId, attempt }`. Never log payloads. */
  readonly log: Logger
  /**
   * Reports progress (issue 17): keeps `data` as the task state's `progress` and sends
   * `{ type: 'task.progress', taskId, data }` to `layer.tasks.progressGroup(taskId)`. Throws at once for data that is
   * not plain JSON or over `MAX_PROGRESS_BYTES`; reports made while one is being written are coalesced (the latest
   * wins); the promise never rejects (a store failure is logged). Every attempt, whether it reported progress or not,
   * announces its end there: `task.retrying`, `task.succeeded` or `task.dead` (docs/topics/background-tasks.md).
   */
  progress(data: unknown): Promise<void>
}
