import type { Message } from '../layers/channel-layer.js'

/** A task that exhausted its retries, or failed with a NonRetryableError. */
export interface DeadLetter {
  /** Unique per dead letter (a task that dies twice after a replay has two). */
  readonly id: string
  readonly channel: string
  readonly taskId: string
  readonly message: Message
  readonly error: string
  readonly stack?: string
  readonly attempts: number
  readonly firstAttemptAt: number
  readonly diedAt: number
}

/**
 * Where dead tasks are kept per channel, with their error, stack and attempts: listed, read, replayed as fresh
 * tasks, purged. Both built-in layers keep them (`layer.tasks`); the CLI's `dead-letters` and the dashboard use it.
 */
export interface DeadLetterStore {
  listDeadLetters(channel: string, options?: { readonly limit?: number }): Promise<DeadLetter[]>
  getDeadLetter(channel: string, id: string): Promise<DeadLetter | undefined>
  /** Puts dead letters back on their channel as fresh tasks (attempts reset); resolves to how many. */
  replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number>
  /**
   * Deletes dead letters older than `olderThanMs` (all when omitted); resolves to how many. With `dryRun`, only
   * counts them.
   */
  purgeDeadLetters(
    channel: string,
    options?: { readonly olderThanMs?: number; readonly dryRun?: boolean },
  ): Promise<number>
  /** Channels that have dead letters. */
  deadLetterChannels(): Promise<string[]>
}
