import type { Message } from '../layers/channel-layer.js'
import type { Logger } from '../logger.js'
import type { RateLimit } from '../tasks/rate-limit.js'
import type { TaskStore } from '../tasks/task-store.js'
import type { RetryOptions, TaskContext } from './retry-options.js'

/** What the runner reports to `onFailure` hooks besides the error. */
export interface FailureInfo {
  readonly willRetry: boolean
  /** The delay before the retry, when there is one. */
  readonly delayMs?: number
}

export interface TaskRunnerOptions {
  readonly store: TaskStore
  readonly channel: string
  readonly concurrency: number
  readonly visibilityMs: number
  /** How often an idle runner claims without a wake-up (a Django send wakes nobody). */
  readonly idlePollMs?: number
  readonly timeoutMs: number
  /** The channel's global rate limit, declared to the store when the runner starts (undefined: none). */
  readonly rateLimit?: RateLimit
  readonly retry: RetryOptions
  readonly storeResults: boolean
  readonly log: Logger
  retryOn(error: unknown): boolean
  random(): number
  handle(message: Message, ctx: TaskContext): Promise<unknown>
  onFailure(error: unknown, ctx: TaskContext, info: FailureInfo): Promise<void>
}

/** Counters of one runner, for logs, the dashboard and tests. */
export interface TaskRunnerStats {
  readonly processed: number
  readonly failed: number
  readonly retried: number
  readonly dead: number
  readonly skippedDuplicates: number
  readonly inFlight: number
}
