import { JsonWebsocketConsumer, type Handlers, type TaskStore } from 'switchyard-channels'
import { JOB_ID, jobGroup, jobSnapshot, type JobEvent, type JobSnapshot } from './jobs.js'

/**
 * `/ws/jobs/:jobId/`: one job's events, pushed. It joins the job's group before accepting, so a page that opens
 * the socket and posts the job once it is open misses nothing; it then sends a `job.state` snapshot from the
 * task store, so a reconnecting page (or one opened late) catches up. Whatever the client sends is ignored.
 *
 * @example
 * ```ts
 * route('/ws/jobs/:jobId/', JobSocket.asApp({ tasks: layer.tasks }))
 * ```
 */
export class JobSocket extends JsonWebsocketConsumer<unknown, JobEvent | JobSnapshot> implements Handlers<JobEvent> {
  /** Where job states are read from (the layer's task store). */
  tasks!: TaskStore

  override async connect(): Promise<void> {
    const jobId = this.scope.urlRoute?.kwargs.jobId
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
      await this.close() // HTTP 403
      return
    }
    await this.channelLayer.groupAdd(jobGroup(jobId), this.channelName)
    await this.accept()
    await this.sendJson(await jobSnapshot(this.tasks, jobId))
  }

  async job_progress(event: Extract<JobEvent, { type: 'job.progress' }>): Promise<void> {
    await this.sendJson(event)
  }

  async job_retrying(event: Extract<JobEvent, { type: 'job.retrying' }>): Promise<void> {
    await this.sendJson(event)
  }

  async job_done(event: Extract<JobEvent, { type: 'job.done' }>): Promise<void> {
    await this.sendJson(event)
  }

  async job_failed(event: Extract<JobEvent, { type: 'job.failed' }>): Promise<void> {
    await this.sendJson(event)
  }
}
