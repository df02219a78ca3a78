import type { MessageValue } from '../channel-layer.js'
import type { TaskState, TaskStatus } from '../../tasks/task-store.js'

/** What a store call changes in a task's state; a field left out keeps its previous value, `undefined` clears it. */
export interface TaskStateChange {
  readonly status: TaskStatus
  readonly attempts?: number
  readonly firstAttemptAt?: number | undefined
  readonly lastError?: string | undefined
  readonly result?: unknown
  readonly progress?: MessageValue | undefined
}

/**
 * The state `task` moves to at `now` under `change`, or undefined when it stays as it is: succeeded is final within
 * the idempotency window, so a late failure, release or recovery of some other copy does not reopen it. A result is
 * kept only on a succeeded state.
 *
 * @example
 * ```ts
 * nextTaskState(undefined, { channel: 'jobs', taskId: 'k' }, { status: 'queued', attempts: 0 }, Date.now())
 * // { taskId: 'k', channel: 'jobs', status: 'queued', attempts: 0, updatedAt: … }
 * ```
 */
export function nextTaskState(
  previous: TaskState | undefined,
  task: { readonly channel: string; readonly taskId: string },
  change: TaskStateChange,
  now: number,
): TaskState | undefined {
  if (previous?.status === 'succeeded' && change.status !== 'succeeded') return undefined
  // Cancelled is final too (task-cancellation.ts): a late ack, retry, release or recovery leaves it.
  if (previous?.status === 'cancelled' && change.status !== 'cancelled') return undefined
  const merged = { ...previous, ...change }
  return Object.freeze({
    taskId: task.taskId,
    channel: task.channel,
    status: change.status,
    attempts: merged.attempts ?? 0,
    updatedAt: now,
    ...(merged.lastError === undefined ? {} : { lastError: merged.lastError }),
    ...(merged.firstAttemptAt === undefined ? {} : { firstAttemptAt: merged.firstAttemptAt }),
    ...(change.status === 'succeeded' && merged.result !== undefined ? { result: merged.result } : {}),
    ...(merged.progress === undefined ? {} : { progress: merged.progress }),
  })
}
