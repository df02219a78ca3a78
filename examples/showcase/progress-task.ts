import { setTimeout as delay } from 'node:timers/promises'

import { NonRetryableError, RetryingConsumer, type TaskContext } from 'switchyard-channels'
import { JOB_ID, type JobProgress, type JobRun } from './jobs.js'

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
 * The worker side of the progress demo, for the `progress` channel: a job runs in ten steps, reporting
 * `ctx.progress({ percent, attempt })` after each. The worker sends every report to the task's progress group
 * (`layer.tasks.progressGroup(jobId)`) as `task.progress`, then `task.retrying`, `task.succeeded` or `task.dead`:
 * the socket and the event stream turn those into the page's `job.*` events (`jobEventOf`). Its first attempt fails
 * on purpose at `failAtPercent` (40 by default): the retry runs after `retryDelayMs`, starting over from 0 % (a task
 * must be safe to run again, so it does not trust what the failed attempt did).
 *
 * @example
 * ```ts
 * const ProgressTask = createProgressTask()
 * ChannelNameRouter({ progress: ProgressTask.asApp() })
 * await layer.send('progress', { type: 'job.run', jobId, idempotencyKey: jobId, failAtPercent: 40 })
 * ```
 */
export function createProgressTask(timing: ProgressTiming = DEFAULT_PROGRESS_TIMING): typeof RetryingConsumer {
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

    async job_run(task: JobRun, ctx: TaskContext): Promise<void> {
      // The task id is the job id (jobs are sent with `idempotencyKey: jobId`): the page follows that task.
      if (!JOB_ID.test(task.jobId) || ctx.taskId !== task.jobId) {
        throw new NonRetryableError('job.run needs a valid jobId and idempotencyKey equal to it')
      }
      for (let percent = 10; percent <= 100; percent += 10) {
        await delay(timing.stepMs, undefined, { signal: ctx.signal })
        if (ctx.attempt === 1 && percent === task.failAtPercent) {
          throw new Error(`injected failure at ${percent} %, first attempt only`)
        }
        const progress: JobProgress = { percent, attempt: ctx.attempt }
        await ctx.progress(progress)
      }
    }
  }
}
