import type { ClaimedTask, TaskSettlement } from '../tasks/task-store.js'
import { retryDelayMs } from './backoff.js'
import { NonRetryableError } from '../control.js'
import type { RetryOptions } from './retry-options.js'
import { rateLimitedSettlement } from './rate-limited.js'

/**
 * Codes of errors that say the message itself is wrong (no string `type`, a type no handler takes): running it
 * again cannot help, so it dies at once instead of using up its retries.
 */
const MALFORMED_TASK_CODES: ReadonlySet<string> = new Set(['SWY_INVALID_MESSAGE_TYPE', 'SWY_UNKNOWN_MESSAGE_TYPE'])

/** What a failed attempt leads to: a retry after `delayMs`, or the dead letters (`delayMs` undefined). */
export interface FailureOutcome {
  readonly willRetry: boolean
  readonly delayMs: number | undefined
  /** The settlement that records it. */
  readonly settlement: TaskSettlement
}

/**
 * Decides what a failed attempt leads to: a `RateLimitedError` goes back after its `retryAfterMs`, uncounted;
 * `NonRetryableError`, a malformed task, `retryOn` saying no or the last
 * retry used up send it to the dead letters; anything else retries after the backoff delay.
 */
export function failureOutcome(
  task: ClaimedTask,
  error: unknown,
  policy: { readonly retry: RetryOptions; retryOn(error: unknown): boolean; random(): number },
): FailureOutcome {
  const limited = rateLimitedSettlement(task, error, describeFailure(error))
  if (limited?.action === 'retry') return { willRetry: true, delayMs: limited.delayMs, settlement: limited }
  const nonRetryable =
    error instanceof NonRetryableError ||
    (error instanceof Error && error.name === 'NonRetryableError') ||
    isMalformedTask(error)
  const willRetry = !nonRetryable && policy.retryOn(error) && task.attempt <= policy.retry.maxRetries
  const message = describeFailure(error)
  if (willRetry) {
    const delayMs = retryDelayMs(task.attempt, policy.retry, () => policy.random())
    return { willRetry, delayMs, settlement: { action: 'retry', task, delayMs, failure: { error: message } } }
  }
  // The stack only for dead letters: formatting one (source-mapped, under tsx) costs more CPU than the rest of a
  // retry, and a retry records only the message.
  const stack = error instanceof Error ? error.stack : undefined
  const failure = stack === undefined ? { error: message } : { error: message, stack }
  return { willRetry, delayMs: undefined, settlement: { action: 'bury', task, failure } }
}

/** A failure as stored and listed: `Name: message`, with Switchyard's code when it has one. */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = codeOf(error)
  return code?.startsWith('SWY_') === true
    ? `${error.name} (${code}): ${error.message}`
    : `${error.name}: ${error.message}`
}

function isMalformedTask(error: unknown): boolean {
  const code = codeOf(error)
  return code !== undefined && MALFORMED_TASK_CODES.has(code)
}

function codeOf(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}
