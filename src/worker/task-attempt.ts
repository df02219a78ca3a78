import type { Logger } from '../logger.js'
import type { ClaimedTask, TaskQueue } from '../tasks/task-store.js'
import { ProgressReporter } from './progress-reporter.js'
import type { TaskContext } from './retry-options.js'

/**
 * One attempt of a task: the handler's {@link TaskContext} and the means to end the attempt early (timeout or
 * shutdown). Its `signal` and `log` are made on first use: most handlers read neither, and an AbortController
 * plus a pino child per task were a measurable share of a worker's CPU (issue 8). A timeout or shutdown fails
 * the attempt through `run()` whether or not the handler ever looked at its signal.
 */
export class TaskAttempt implements TaskContext {
  readonly attempt: number
  readonly taskId: string
  private controller: AbortController | undefined
  private childLog: Logger | undefined
  private aborted = false
  private reason: unknown
  private rejectRun: ((reason: unknown) => void) | undefined
  private reporter: ProgressReporter | undefined
  private progressEnded = false

  constructor(
    private readonly task: ClaimedTask,
    readonly channel: string,
    private readonly parentLog: Logger,
    private readonly store?: TaskQueue,
  ) {
    this.attempt = task.attempt
    this.taskId = task.taskId
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.reason)
    }
    return this.controller.signal
  }

  get log(): Logger {
    this.childLog ??= this.parentLog.child({ channel: this.channel, taskId: this.taskId, attempt: this.attempt })
    return this.childLog
  }

  progress(data: unknown): Promise<void> {
    if (this.store === undefined) throw new Error('This attempt has no task store to report progress to')
    if (this.progressEnded) return Promise.resolve()
    this.reporter ??= new ProgressReporter(this.store, this.task, () => this.log)
    return this.reporter.report(data)
  }

  /** Resolves once the progress reported so far is written; later reports are ignored (the attempt is over). */
  async endProgress(): Promise<void> {
    this.progressEnded = true
    if (this.reporter !== undefined) await this.reporter.close()
  }

  /** Settles like `work`, unless the attempt is aborted first: then rejects with the abort reason. */
  run<T>(work: Promise<T>): Promise<T> {
    if (this.aborted) return Promise.reject(this.reason)
    return new Promise<T>((resolve, reject) => {
      this.rejectRun = reject
      work.then(resolve, reject)
    })
  }

  /** Ends the attempt: aborts the signal (if the handler took it) and fails `run()`. Later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.controller?.abort(reason)
    this.rejectRun?.(reason)
  }
}
