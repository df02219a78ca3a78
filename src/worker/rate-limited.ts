import { RateLimitedError } from '../errors.js'
import type { ClaimedTask, TaskSettlement } from '../tasks/task-store.js'

/** The longest `retryAfterMs` a RateLimitedError may ask for: a day (a bad `Retry-After` cannot park a task). */
export const MAX_RETRY_AFTER_MS = 86_400_000

/**
 * The settlement of an attempt that threw a valid {@link RateLimitedError}: the task goes back after `retryAfterMs`
 * with its attempt given back (`countAttempt: false`), so it never uses up retries or reaches the dead letters for
 * it. Undefined for any other error, and for a `retryAfterMs` that is not an integer from 0 to a day: that attempt
 * is an ordinary failure. Matched by code too, as an app loaded as CommonJS has its own copy of the class.
 */
export function rateLimitedSettlement(task: ClaimedTask, error: unknown, describe: string): TaskSettlement | undefined {
  const limited =
    error instanceof RateLimitedError ||
    (error instanceof Error && (error as { code?: unknown }).code === RateLimitedError.code)
  if (!limited) return undefined
  const delayMs = (error as { retryAfterMs?: unknown }).retryAfterMs
  if (typeof delayMs !== 'number' || !Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > MAX_RETRY_AFTER_MS) {
    return undefined
  }
  return { action: 'retry', task, delayMs, failure: { error: describe }, countAttempt: false }
}
