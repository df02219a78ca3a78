import { randomUUID } from 'node:crypto'

import { HttpConsumer, type TaskStore } from 'switchyard-channels'
import { JOB_ID, jobSnapshot, PROGRESS_CHANNEL, type JobRun } from './jobs.js'
import { methodOf, readJsonBody, respondJson } from './json-io.js'

/** Where the demo's first attempt fails unless the request says `injectFailure: false`. */
export const INJECTED_FAILURE_PERCENT = 40

/**
 * `POST /api/jobs/` with `{ jobId?, injectFailure? }` queues a progress job and answers 202 `{ jobId }`. Pages
 * pick the id themselves and subscribe to it first (see `JobSocket`), so no progress is missed; without one the
 * server makes one up. A job id already known to the task store is refused (409): ids name one job.
 *
 * @example
 * ```ts
 * route('/api/jobs/', JobsApi.asApp({ tasks: layer.tasks }))
 * ```
 */
export class JobsApi extends HttpConsumer {
  /** Where job states are read from (the layer's task store). */
  tasks!: TaskStore

  override async handle(body: Uint8Array): Promise<void> {
    if (methodOf(this.scope) !== 'POST') {
      await respondJson(this, 405, { error: 'POST a JSON object: { "jobId"?: string, "injectFailure"?: boolean }' })
      return
    }
    const request = readJsonBody(this.scope, body)
    if (!request.ok) {
      await respondJson(this, request.status, { error: request.error })
      return
    }
    const { jobId = randomUUID(), injectFailure = true } = request.value
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
      await respondJson(this, 400, { error: '`jobId` is 8-64 letters, digits, "-" or "_"' })
      return
    }
    if (typeof injectFailure !== 'boolean') {
      await respondJson(this, 400, { error: '`injectFailure` is true or false' })
      return
    }
    if ((await this.tasks.getTaskState(jobId)) !== undefined) {
      await respondJson(this, 409, { error: `job ${jobId} already exists; pick a new id` })
      return
    }
    const task: JobRun = {
      type: 'job.run',
      jobId,
      idempotencyKey: jobId,
      failAtPercent: injectFailure ? INJECTED_FAILURE_PERCENT : null,
    }
    try {
      await this.channelLayer.send(PROGRESS_CHANNEL, task)
    } catch (error) {
      this.log.warn({ err: error }, 'could not queue a job')
      await respondJson(this, 503, { error: 'the job queue is full or unavailable; try again shortly' })
      return
    }
    await respondJson(this, 202, { jobId })
  }
}

/** `GET /api/jobs/:jobId/`: the job's `job.state` snapshot from the task store. */
export class JobStateApi extends HttpConsumer {
  /** Where job states are read from (the layer's task store). */
  tasks!: TaskStore

  override async handle(): Promise<void> {
    const jobId = this.scope.urlRoute?.kwargs.jobId
    if (methodOf(this.scope) !== 'GET') await respondJson(this, 405, { error: 'GET only' })
    else if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) await respondJson(this, 404, { error: 'no such job' })
    else await respondJson(this, 200, await jobSnapshot(this.tasks, jobId))
  }
}
