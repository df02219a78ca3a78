import type { Logger } from '../logger.js'
import type { TaskEvent, TaskQueue } from '../tasks/task-store.js'

/**
 * Tells a task's progress group how its attempt ended (issue 17): `task.retrying`, `task.succeeded` or `task.dead`,
 * after the settlement is recorded, so a page that hears the end finds the final state. Best effort: a failed send
 * is logged and the task's outcome stands.
 */
export async function sendTaskEvent(store: TaskQueue, event: TaskEvent, log: Logger): Promise<void> {
  try {
    await store.sendTaskEvent(event)
  } catch (err) {
    log.warn({ err, taskId: event.taskId, event: event.type }, 'could not send a task event')
  }
}

/** What a task event tells of an error: its message and code, never the task's payload nor the stack. */
export function failureFields(error: unknown): { readonly error: string; readonly code?: string } {
  if (!(error instanceof Error)) return { error: String(error) }
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? { error: error.message, code } : { error: error.message }
}
