import { createHash } from 'node:crypto'

import type { MessageValue } from '../layers/channel-layer.js'
import { prepareProgressData } from '../layers/message-validation.js'

/**
 * The most a task's progress `data` may take, msgpack-encoded: far below `maxMessageBytes`, as a progress report is
 * sent to a page many times a second and kept in the task state. Send a count or a percentage, not the work.
 */
export const MAX_PROGRESS_BYTES = 16_384

/** The group names a task id is kept in verbatim; longer ids, or ids with other characters, are hashed. */
const VERBATIM_PREFIX = 'task.progress.'
const HASHED_PREFIX = 'task.progress-sha256.'
const SAFE_ID = /^[a-zA-Z0-9_.-]{1,85}$/

/** What a task's progress group hears, in order: progress reports, retries, then one end (succeeded or dead). */
export type TaskEvent =
  | { readonly type: 'task.progress'; readonly taskId: string; readonly data: MessageValue }
  | {
      readonly type: 'task.retrying'
      readonly taskId: string
      /** The attempt that failed (1 for the first run). */
      readonly attempt: number
      readonly delayMs: number
      readonly error: string
      readonly code?: string
    }
  | { readonly type: 'task.succeeded'; readonly taskId: string }
  | { readonly type: 'task.dead'; readonly taskId: string; readonly error: string; readonly code?: string }

/**
 * The group that hears `taskId`'s events (`TaskEvent`): a valid group name for any task id. An id of group-name
 * characters up to 85 long is kept as it is (`task.progress.<id>`); any other (a user's idempotency key with
 * spaces, slashes or non-ASCII, or a long one) is hashed (`task.progress-sha256.<hex>`), so two ids never share a
 * group.
 *
 * @example
 * ```ts
 * progressGroup('3f2a9c0e5b7d41e8a6c2f0b9d4e1a7c3') // 'task.progress.3f2a9c0e5b7d41e8a6c2f0b9d4e1a7c3'
 * progressGroup('invoice 2025/17') // 'task.progress-sha256.' + 64 hex digits
 * ```
 */
export function progressGroup(taskId: string): string {
  if (SAFE_ID.test(taskId)) return VERBATIM_PREFIX + taskId
  return HASHED_PREFIX + createHash('sha256').update(taskId).digest('hex')
}

/** A checked progress report: the event to send, and `data` as JSON for the task state. */
export interface PreparedProgress {
  readonly event: Extract<TaskEvent, { type: 'task.progress' }>
  readonly json: string
}

/**
 * Checks `data` as a message's data is checked (any plain JSON value: no undefined, Dates, class instances, bytes,
 * cycles or NaN; at most `MAX_PROGRESS_BYTES` encoded) and returns a frozen copy in its event. Throws
 * `MessageNotSerializableError` or `MessageTooLargeError`.
 */
export function prepareProgress(taskId: string, data: unknown): PreparedProgress {
  const copy = prepareProgressData(data, MAX_PROGRESS_BYTES)
  return { event: Object.freeze({ type: 'task.progress', taskId, data: copy }), json: JSON.stringify(copy) }
}
