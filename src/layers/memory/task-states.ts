import type { TaskState, TaskStatus } from '../../tasks/task-store.js'
import { nextTaskState, type TaskStateChange } from './task-state-change.js'

const FINISHED: ReadonlySet<TaskStatus> = new Set(['succeeded', 'dead'])

/**
 * The in-memory store's task states. A task that is still queued, running or retrying keeps its state as long as
 * it lives, however long it waits (so does a cancelled one until `retire`); a finished one (succeeded or dead) is kept `retentionMs` after its last change,
 * lazily (`purge`), as a Redis key TTL would.
 */
export class TaskStates {
  private readonly unfinished = new Map<string, TaskState>()
  /** Finished states in last-change order, which with one retention is also expiry order. */
  private readonly finished = new Map<string, TaskState>()

  constructor(private readonly retentionMs: number) {}

  get(taskId: string): TaskState | undefined {
    return this.unfinished.get(taskId) ?? this.finished.get(taskId)
  }

  set(state: TaskState): void {
    this.delete(state.taskId)
    if (FINISHED.has(state.status)) this.finished.set(state.taskId, state)
    else this.unfinished.set(state.taskId, state)
  }

  /**
   * A cancelled task's message is gone (skipped at claim, or its claim settled): its state is finished from `now`
   * and expires after the retention (until then it keeps none, as it may still wait in a queue).
   */
  retire(taskId: string, now: number): void {
    const state = this.unfinished.get(taskId)
    if (state?.status !== 'cancelled') return
    this.unfinished.delete(taskId)
    this.finished.set(taskId, Object.freeze({ ...state, updatedAt: now }))
  }

  /** Writes a task's state (`nextTaskState`): a finished one is kept for the retention from `now`. */
  change(task: { readonly channel: string; readonly taskId: string }, change: TaskStateChange, now: number): void {
    const state = nextTaskState(this.get(task.taskId), task, change, now)
    if (state !== undefined) this.set(state)
  }

  /** Whether `taskId` was cancelled: then its message or claim is dropped, and its state starts to expire. */
  dropIfCancelled(taskId: string, now: number): boolean {
    if (this.get(taskId)?.status !== 'cancelled') return false
    this.retire(taskId, now)
    return true
  }

  delete(taskId: string): void {
    this.unfinished.delete(taskId)
    this.finished.delete(taskId)
  }

  /** Forgets finished states older than the retention. */
  purge(now: number): void {
    const cutoff = now - this.retentionMs
    for (const [taskId, state] of this.finished) {
      if (state.updatedAt > cutoff) break
      this.finished.delete(taskId)
    }
  }

  clear(): void {
    this.unfinished.clear()
    this.finished.clear()
  }
}
