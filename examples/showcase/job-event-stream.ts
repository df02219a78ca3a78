import { HttpConsumer, type Handlers, type TaskEvent, type TaskStore } from 'switchyard-channels'
import { isFinished, JOB_ID, jobEventOf, jobSnapshot } from './jobs.js'
import { methodOf, respondJson } from './json-io.js'

/**
 * `/events/jobs/:jobId/`: the same events as `JobSocket`, as server-sent events for `EventSource`: `state` (the
 * snapshot, first), `progress`, `retrying`, then `done` or `failed`, after which the stream ends. The task's progress group is
 * joined before the response starts, so once the browser's `open` fires nothing can be missed. A browser that
 * reconnects (EventSource does so by itself) gets a fresh snapshot; one that connects after the end gets the final
 * state and the stream ends at once. Pages should `close()` their EventSource on `done`, or it reconnects.
 *
 * @example
 * ```ts
 * route('/events/jobs/:jobId/', JobEventStream.asApp({ tasks: layer.tasks }))
 * ```
 */
export class JobEventStream extends HttpConsumer implements Handlers<TaskEvent> {
  /** Where job states are read from (the layer's task store). */
  tasks!: TaskStore

  override async handle(): Promise<void> {
    const jobId = this.scope.urlRoute?.kwargs.jobId
    if (methodOf(this.scope) !== 'GET') {
      await respondJson(this, 405, { error: 'GET only' })
      return
    }
    if (typeof jobId !== 'string' || !JOB_ID.test(jobId)) {
      await respondJson(this, 404, { error: 'no such job id' })
      return
    }
    await this.channelLayer.groupAdd(this.tasks.progressGroup(jobId), this.channelName)
    await this.startEventStream()
    const snapshot = await jobSnapshot(this.tasks, jobId)
    await this.sendEvent({ event: 'state', data: snapshot })
    if (isFinished(snapshot.status)) await this.endEventStream()
  }

  async task_progress(event: Extract<TaskEvent, { type: 'task.progress' }>): Promise<void> {
    await this.sendEvent({ event: 'progress', data: await jobEventOf(this.tasks, event) })
  }

  async task_retrying(event: Extract<TaskEvent, { type: 'task.retrying' }>): Promise<void> {
    await this.sendEvent({ event: 'retrying', data: await jobEventOf(this.tasks, event) })
  }

  async task_succeeded(event: Extract<TaskEvent, { type: 'task.succeeded' }>): Promise<void> {
    await this.sendEvent({ event: 'done', data: await jobEventOf(this.tasks, event) })
    await this.endEventStream()
  }

  async task_dead(event: Extract<TaskEvent, { type: 'task.dead' }>): Promise<void> {
    await this.sendEvent({ event: 'failed', data: await jobEventOf(this.tasks, event) })
    await this.endEventStream()
  }
}
