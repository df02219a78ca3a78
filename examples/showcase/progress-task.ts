import { setTimeout as delay } from 'node:timers/promises'

import {
  NonRetryableError,
  RetryingConsumer,
  type ChannelLayer,
  type FailureInfo,
  type TaskContext,
} from 'switchyard-channels'
import { JOB_ID, jobGroup, type JobEvent, type JobRun } from './jobs.js'

/** The demo's pace; tests shorten it. */
export interface ProgressTiming {
  /**
   * Pause before each 10 % step.
   * @defaultValue 150
   */
  readonly stepMs: number
  /**
   * Delay before the retry of a failed attempt. Real tasks wait longer (the default policy starts at 10 s); half a
   * second lets you watch the retry happen.
   * @defaultValue 500
   */
  readonly retryDelayMs: number
}

export const DEFAULT_PROGRESS_TIMING: ProgressTiming = Object.freeze({ stepMs: 150, retryDelayMs: 500 })

/**
 * The worker side of the progress demo, for the `progress` channel: a job runs in ten steps, pushing
 * `job.progress { percent, attempt }` to the group `job.<jobId>` after each. Its first attempt fails on purpose at
 * `failAtPercent` (40 by default): the retry runs after `retryDelayMs`, starting over from 0 % (a task must be
 * safe to run again, so it does not trust what the failed attempt did). The `onFailure` hook tells the group
 * (`job.retrying`, or `job.failed` once retries are exhausted); the last step sends `job.done`.
 *
 * The hook is static and gets no layer, so the class is made per layer: `events` is where it reports.
 *
 * @example
 * ```ts
 * const ProgressTask = createProgressTask(layer)
 * ChannelNameRouter({ progress: ProgressTask.asApp() })
 * await layer.send('progress', { type: 'job.run', jobId, idempotencyKey: jobId, failAtPercent: 40 })
 * ```
 */
export function createProgressTask(
  events: ChannelLayer,
  timing: ProgressTiming = DEFAULT_PROGRESS_TIMING,
): typeof RetryingConsumer {
  const report = (event: JobEvent): Promise<void> => events.groupSend(jobGroup(event.jobId), event)

  return class ProgressTask extends RetryingConsumer {
    // No jitter, so the delay shown on the page is the one the worker waits.
    static override retry = {
      maxRetries: 2,
      initialDelayMs: timing.retryDelayMs,
      factor: 2,
      maxDelayMs: 10_000,
      jitter: 'none' as const,
    }
    static override timeoutMs = 30_000
    static override concurrency = 4

    static override async onFailure(error: unknown, ctx: TaskContext, info: FailureInfo): Promise<void> {
      const message = error instanceof Error ? error.message : String(error)
      // The task id is the job id: jobs are sent with `idempotencyKey: jobId` (checked by the handler).
      const jobId = ctx.taskId
      if (info.willRetry) {
        await report({ type: 'job.retrying', jobId, attempt: ctx.attempt, error: message, delayMs: info.delayMs ?? 0 })
      } else {
        await report({ type: 'job.failed', jobId, attempts: ctx.attempt, error: message })
      }
    }

    async job_run(task: JobRun, ctx: TaskContext): Promise<void> {
      if (!JOB_ID.test(task.jobId) || ctx.taskId !== task.jobId) {
        throw new NonRetryableError('job.run needs a valid jobId and idempotencyKey equal to it')
      }
      for (let percent = 10; percent <= 100; percent += 10) {
        await delay(timing.stepMs, undefined, { signal: ctx.signal })
        if (ctx.attempt === 1 && percent === task.failAtPercent) {
          throw new Error(`injected failure at ${percent} %, first attempt only`)
        }
        await report({ type: 'job.progress', jobId: task.jobId, percent, attempt: ctx.attempt })
      }
      await report({ type: 'job.done', jobId: task.jobId, attempts: ctx.attempt })
    }
  }
}
