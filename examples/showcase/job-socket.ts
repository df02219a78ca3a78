import { JsonWebsocketConsumer, type Handlers, type TaskEvent, type TaskStore } from 'switchyard-channels'
import { JOB_ID, jobEventOf, jobSnapshot, type JobEvent, type JobSnapshot } from './jobs.js'

/**
 * `/ws/jobs/:jobId/`: one job's events, pushed. It joins the job's task progress group before accepting, so a page that opens
 * the socket and posts the job once it is open misses nothing; it then sends a `job.state` snapshot from the
 * task store, so a reconnecting page (or one opened late) catches up. Whatever the client sends is ignored.
 *
 * @example
 * ```ts
 * route('/ws/jobs/:jobId/', JobSocket.asApp({ tasks: layer.tasks }))
 * ```
 */
export class JobSocket extends JsonWebsocketConsumer<unknown, JobEvent | JobSnapshot> implements Handlers<TaskEvent> {
  /** Where job states are read from (the layer's task store). */
  tasks!: TaskStore

  override async connect(): Promise<void> {
    const jobId = this.scope.urlRoute?.kwargs.jobId
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
      await this.close() // HTTP 403
      return
    }
    await this.channelLayer.groupAdd(this.tasks.progressGroup(jobId), this.channelName)
    await this.accept()
    await this.sendJson(await jobSnapshot(this.tasks, jobId))
  }

  async task_progress(event: Extract<TaskEvent, { type: 'task.progress' }>): Promise<void> {
    await this.sendJson(await jobEventOf(this.tasks, event))
  }

  async task_retrying(event: Extract<TaskEvent, { type: 'task.retrying' }>): Promise<void> {
    await this.sendJson(await jobEventOf(this.tasks, event))
  }

  async task_succeeded(event: Extract<TaskEvent, { type: 'task.succeeded' }>): Promise<void> {
    await this.sendJson(await jobEventOf(this.tasks, event))
  }

  async task_dead(event: Extract<TaskEvent, { type: 'task.dead' }>): Promise<void> {
    await this.sendJson(await jobEventOf(this.tasks, event))
  }
}
