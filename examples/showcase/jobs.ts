/**
 * The progress demo's vocabulary: the task a job is, the events its group gets, and the snapshot a late subscriber
 * starts from. The socket (`job-socket.ts`) and the event stream (`job-event-stream.ts`) forward the same events.
 */
import type { TaskEvent, TaskState, TaskStatus, TaskStore } from 'switchyard-channels'

/** The background channel progress jobs are sent to. */
export const PROGRESS_CHANNEL = 'progress'

/** Job ids come from the browser (so it can subscribe before the job starts): short, URL- and group-name-safe. */
export const JOB_ID = /^[A-Za-z0-9_-]{8,64}$/

/** What the task reports with `ctx.progress` after each step (the task state's `progress`). */
export type JobProgress = { readonly percent: number; readonly attempt: number }

/** The task on `PROGRESS_CHANNEL`. Its `idempotencyKey` is the job id, so the task id is the job id too. */
export type JobRun = {
  readonly type: 'job.run'
  readonly jobId: string
  readonly idempotencyKey: string
  /** The first attempt fails when it reaches this percentage (the demo's injected failure); null: never. */
  readonly failAtPercent: number | null
}

/** What a page receives: the job's task events (`jobEventOf`), in the demo's words. */
export type JobEvent =
  | { readonly type: 'job.progress'; readonly jobId: string; readonly percent: number; readonly attempt: number }
  | {
      readonly type: 'job.retrying'
      readonly jobId: string
      readonly attempt: number
      readonly error: string
      readonly delayMs: number
    }
  | { readonly type: 'job.done'; readonly jobId: string; readonly attempts: number }
  | { readonly type: 'job.failed'; readonly jobId: string; readonly attempts: number; readonly error: string }

/** Where a job stands when someone subscribes: read from the task store, so reconnects and late pages catch up. */
export type JobSnapshot = {
  readonly type: 'job.state'
  readonly jobId: string
  /** `unknown` until a worker has claimed the job (or after the task state expired). */
  readonly status: TaskStatus | 'unknown'
  readonly attempts: number
  readonly lastError: string | null
}

/** The snapshot for `jobId` from the task store. */
export async function jobSnapshot(tasks: TaskStore, jobId: string): Promise<JobSnapshot> {
  const state: TaskState | undefined = await tasks.getTaskState(jobId)
  return {
    type: 'job.state',
    jobId,
    status: state?.status ?? 'unknown',
    attempts: state?.attempts ?? 0,
    lastError: state?.lastError ?? null,
  }
}

/** Whether a job can change no more. */
export const isFinished = (status: JobSnapshot['status']): boolean => status === 'succeeded' || status === 'dead'

/**
 * The page's event for a task event of the job's progress group (`tasks.progressGroup(jobId)`): `task.progress` is
 * `job.progress`, `task.retrying` is `job.retrying`, and the end (`task.succeeded`, `task.dead`) is `job.done` or
 * `job.failed` with the attempts read from the task state.
 */
export async function jobEventOf(tasks: TaskStore, event: TaskEvent): Promise<JobEvent> {
  const jobId = event.taskId
  switch (event.type) {
    case 'task.progress': {
      const { percent, attempt } = event.data as JobProgress
      return { type: 'job.progress', jobId, percent, attempt }
    }
    case 'task.retrying':
      return { type: 'job.retrying', jobId, attempt: event.attempt, error: event.error, delayMs: event.delayMs }
    case 'task.succeeded':
      return { type: 'job.done', jobId, attempts: (await tasks.getTaskState(jobId))?.attempts ?? 0 }
    case 'task.dead':
      return {
        type: 'job.failed',
        jobId,
        attempts: (await tasks.getTaskState(jobId))?.attempts ?? 0,
        error: event.error,
      }
  }
}
