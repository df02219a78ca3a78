import type { DropKind } from '../drop-reporter.js'

/** The error of a task that waited in its queue past its expiry: what dead letters and task states say. */
export const EXPIRED_TASK_ERROR = 'expired'

/** The warning a store logs (at most once per interval, with the count) when expired tasks go to dead letters. */
export const EXPIRED_TASKS: DropKind = Object.freeze({
  field: 'channel',
  countField: 'deadLettered',
  message: 'expired tasks moved to dead letters',
})

/**
 * The dead letter's detail (its `stack` field): which limit the task's wait passed. Without `taskExpiryMs`, only a
 * message queued before its channel became a task channel can expire, by the layer's `expiryMs`.
 */
export function expiredTaskDetail(taskExpiryMs: number | undefined, expiryMs: number): string {
  const limit =
    taskExpiryMs === undefined
      ? `the layer's expiryMs (${expiryMs} ms), as it was queued before its channel was a task channel`
      : `taskExpiryMs (${taskExpiryMs} ms)`
  return `The task waited in its queue longer than ${limit}; replay it to run it`
}
