import type { Logger } from '../logger.js'
import { prepareProgress } from '../tasks/task-progress.js'
import type { ClaimedTask, TaskQueue } from '../tasks/task-store.js'

/**
 * What `ctx.progress(data)` does for one attempt (issue 17): checks `data` at once (a bad value throws where it was
 * passed), then writes it to the task state and its progress group, one write at a time. Reports made while a
 * write is under way are coalesced: only the latest waits, and earlier ones are dropped, so a handler may report
 * thousands of times a second and the store sees about one write per round trip. Every promise resolves once its
 * value or a later one is written; a store failure is logged (at most once per attempt), never thrown: progress is
 * best effort, and the task's own outcome does not depend on it.
 */
export class ProgressReporter {
  private pending: { data: unknown; readonly done: (() => void)[] } | undefined
  private writing: Promise<void> | undefined
  private failed = false
  private closed = false

  constructor(
    private readonly store: TaskQueue,
    private readonly task: ClaimedTask,
    private readonly log: () => Logger,
  ) {}

  report(data: unknown): Promise<void> {
    if (this.closed) return Promise.resolve()
    const checked = prepareProgress(this.task.taskId, data).event.data
    return new Promise<void>((resolve) => {
      if (this.pending === undefined) {
        this.pending = { data: checked, done: [resolve] }
      } else {
        this.pending.data = checked
        this.pending.done.push(resolve)
      }
      this.writing ??= this.drain()
    })
  }

  /** Resolves once every report made so far is written (or dropped); later reports are ignored. */
  async close(): Promise<void> {
    this.closed = true
    await this.writing
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const { data, done } = this.pending
      this.pending = undefined
      try {
        await this.store.reportProgress(this.task, data)
      } catch (err) {
        if (!this.failed) this.log().warn({ err }, 'could not report task progress')
        this.failed = true
      }
      for (const resolve of done) resolve()
    }
    this.writing = undefined
  }
}
