import type { MessageValue } from '../../channel-layer.js'
import type { TaskState, TaskStatus } from '../../../tasks/task-queue.js'

/** A task state hash as the task scripts write it (`keys.ts` `taskState`), or undefined when it has no status. */
export function parseTaskState(taskId: string, fields: Readonly<Record<string, string>>): TaskState | undefined {
  if (fields.status === undefined) return undefined
  return Object.freeze({
    taskId,
    channel: fields.channel ?? '',
    status: fields.status as TaskStatus,
    attempts: Number(fields.attempts ?? 0),
    updatedAt: Number(fields.updatedAt ?? 0),
    ...(fields.firstAttemptAt === undefined ? {} : { firstAttemptAt: Number(fields.firstAttemptAt) }),
    ...(fields.lastError === undefined || fields.lastError === '' ? {} : { lastError: fields.lastError }),
    ...(fields.result === undefined ? {} : { result: JSON.parse(fields.result) as unknown }),
    ...(fields.progress === undefined ? {} : { progress: JSON.parse(fields.progress) as MessageValue }),
  })
}
