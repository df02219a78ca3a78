import type { ClaimedTask, TaskStatus } from './task-queue.js'

/** The statuses `cancel` moves to `cancelled`; any other (succeeded, dead, cancelled) is left as it is. */
export const CANCELLABLE_STATUSES: ReadonlySet<TaskStatus> = new Set(['queued', 'running', 'retrying'])

/**
 * Cancelling tasks (issue 17): a queued or delayed task never runs, a running one sees `ctx.signal` abort at once
 * when cancelled in its worker's process (`watchCancellations`), else within one renewal tick of its worker, and its state reads `cancelled`. Cancelled is final like succeeded: the
 * cancelled task is never retried nor dead-lettered, and a handler that ignores its signal and succeeds leaves the
 * state `cancelled` (its result is not stored). Its state keeps no TTL while its message may still wait in a
 * queue or be claimed; once the store drops the message (skipped at claim, or its claim settled or released) it
 * is kept `taskStateRetentionMs`, like any finished state, and a copy sent again under the same id within that
 * time is skipped too.
 */
export interface TaskCancellation {
  /**
   * Cancels the task `taskId` if it is queued, retrying (delayed) or running; resolves to its status before the
   * call, or undefined for an unknown id (nothing is recorded then). A succeeded, dead or already cancelled task
   * is left as it is, so the call is idempotent: the task was cancelled by this call exactly when it resolves to
   * `queued`, `retrying` or `running` (`CANCELLABLE_STATUSES`).
   *
   * @example
   * ```ts
   * const before = await layer.tasks.cancel('welcome-42')
   * if (before !== undefined && CANCELLABLE_STATUSES.has(before)) console.log('cancelled while', before)
   * ```
   */
  cancel(taskId: string): Promise<TaskStatus | undefined>
  /**
   * Of `tasks` (claims a worker holds), those whose task was cancelled: what a worker checks once per renewal
   * tick to abort their attempts (on Redis one call per channel, from any process).
   */
  cancelledAmong(tasks: readonly ClaimedTask[]): Promise<ClaimedTask[]>
  /**
   * Calls `listener` with the id of each running task cancelled through this store object (this process), so a
   * worker of the same process aborts it at once instead of at its next renewal tick; returns the unsubscribe.
   * Cancels from other processes are still found by `cancelledAmong`.
   */
  watchCancellations?(listener: (taskId: string) => void): () => void
}

/** The listeners of `watchCancellations`, for a store to hold. */
export class CancelNotices {
  private readonly listeners = new Set<(taskId: string) => void>()

  watch(listener: (taskId: string) => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** A running task was cancelled. */
  notify(taskId: string): void {
    for (const listener of this.listeners) listener(taskId)
  }
}
