import { TaskTimeoutError } from '../errors.js'
import { reportTaskAttempt } from '../diagnostics.js'
import { DropReporter } from '../drop-reporter.js'
import { EXPIRED_TASK_ERROR, EXPIRED_TASKS, expiredTaskDetail } from '../tasks/expired-tasks.js'
import type { ClaimedTask, TaskEvent, TaskSettlement } from '../tasks/task-store.js'
import { TaskAttempt } from './task-attempt.js'
import { failureOutcome } from './task-failure.js'
import { failureFields } from './task-events.js'
import type { TaskRunnerOptions } from './task-runner-options.js'

/** How a TaskExecutor reaches the runner around it: its slots and the claim loop that records settlements. */
export interface TaskExecutorHooks {
  /** Queues a settlement for the claim loop's next call; resolves once it is recorded (false: it never was). */
  settle(settlement: TaskSettlement): Promise<boolean>
  /** The attempt takes a slot (until `ended`). */
  started(task: ClaimedTask, attempt: TaskAttempt): void
  /** The attempt that began at `startedAt` (performance.now()) ended: its slot is free. */
  ended(task: ClaimedTask, startedAt: number): void
  /** Whether stop() aborted this attempt to return its claim (then the abort is not the task's failure). */
  released(task: ClaimedTask): boolean
  /** Whether the task was cancelled (`layer.tasks.cancel`): it does not start, or its abort is no failure. */
  cancelled(task: ClaimedTask): boolean
}

/** The runner's outcome counters. */
export interface TaskCounts {
  processed: number
  failed: number
  retried: number
  dead: number
  skippedDuplicates: number
  /** Attempts aborted, or claims dropped unstarted, because their task was cancelled. */
  cancelled: number
}

/**
 * The life of one claimed task in a TaskRunner: an expired task goes to the dead letters, a duplicate of a
 * succeeded one is acked unrun; anything else runs its attempt under `timeoutMs`, then is acked, or fails into a
 * retry or the dead letters (`failureOutcome`) with the `onFailure` hook told. Counts every outcome.
 */
export class TaskExecutor {
  readonly counts: TaskCounts = {
    processed: 0,
    failed: 0,
    retried: 0,
    dead: 0,
    skippedDuplicates: 0,
    cancelled: 0,
  }
  private readonly timeoutMessage: string
  private readonly expiredReporter: DropReporter
  /** Task events on their way (`announce`), by the promise they share, with how many share it. */
  private readonly announcing = new Map<Promise<void>, number>()

  constructor(
    private readonly options: TaskRunnerOptions,
    private readonly hooks: TaskExecutorHooks,
  ) {
    this.timeoutMessage = `The attempt ran past timeoutMs (${options.timeoutMs} ms)`
    this.expiredReporter = new DropReporter(options.log, 10_000, EXPIRED_TASKS)
  }

  /** Runs the task to its settlement; resolves once that is recorded, or known never to be. */
  async execute(task: ClaimedTask): Promise<void> {
    const { channel, timeoutMs, log } = this.options
    if (task.expired === true) {
      await this.buryExpired(task)
      return
    }
    if (task.alreadySucceeded) {
      // At-least-once redelivered a task that already succeeded: ack it without running it again.
      this.counts.skippedDuplicates++
      if (!(await this.hooks.settle({ action: 'ack', task }))) log.warn({ channel }, 'could not ack a duplicate')
      return
    }
    if (this.hooks.cancelled(task)) {
      await this.dropCancelled(task)
      return
    }
    const attempt = new TaskAttempt(task, channel, log, this.options.store)
    this.hooks.started(task, attempt)
    const timer = setTimeout(() => {
      attempt.abort(new TaskTimeoutError(this.timeoutMessage))
    }, timeoutMs)
    const startedAt = performance.now()
    let result: unknown
    try {
      result = await attempt.run(this.options.handle(task.message, attempt))
    } catch (error) {
      clearTimeout(timer)
      this.hooks.ended(task, startedAt)
      await attempt.endProgress()
      // Aborted by a shutdown past its grace period: stop() returns the claim; this is not the task's failure.
      if (this.hooks.released(task)) return
      if (this.hooks.cancelled(task)) {
        await this.dropCancelled(task)
        return
      }
      await this.fail(task, attempt, error, (performance.now() - startedAt) / 1000)
      return
    }
    clearTimeout(timer)
    this.hooks.ended(task, startedAt)
    await attempt.endProgress()
    const acked = await this.hooks.settle(
      this.options.storeResults ? { action: 'ack', task, result } : { action: 'ack', task },
    )
    if (!acked) {
      log.warn({ channel, taskId: task.taskId }, 'could not ack a task; it comes back after its deadline')
      return
    }
    this.counts.processed++
    reportTaskAttempt(channel, 'succeeded', (performance.now() - startedAt) / 1000)
    this.announce({ type: 'task.succeeded', taskId: task.taskId })
  }

  /** Resolves once the task events sent so far have gone out, or failed (logged). */
  async announced(): Promise<void> {
    await Promise.allSettled(this.announcing.keys())
  }

  /**
   * Sends a task's end to its progress group without holding up the attempt (issue 17). Every task announces its end,
   * progress reported or not; the store skips groups nobody joined, so most cost next to nothing, but a send may wait
   * for a check gathering many (task-event-batcher.ts), and an attempt waiting for it would keep its task, payload and
   * closures alive meanwhile. Events checked together share a promise: one handler per check, not per task. Best
   * effort: a failed send is logged once for the events that shared it, and the tasks' outcomes stand.
   */
  private announce(event: TaskEvent): void {
    let sent: Promise<void>
    try {
      sent = this.options.store.sendTaskEvent(event)
    } catch (err) {
      this.options.log.warn({ err, taskId: event.taskId, event: event.type }, 'could not send a task event')
      return
    }
    const sharing = this.announcing.get(sent)
    if (sharing !== undefined) {
      this.announcing.set(sent, sharing + 1)
      return
    }
    this.announcing.set(sent, 1)
    sent.then(
      () => this.announcing.delete(sent),
      (err: unknown) => {
        const events = this.announcing.get(sent) ?? 1
        this.announcing.delete(sent)
        this.options.log.warn({ err, events, channel: this.options.channel }, 'could not send task events')
      },
    )
  }

  /**
   * A cancelled task is neither retried nor dead-lettered: the ack only drops its claim, its state stays
   * `cancelled` (task-cancellation.ts).
   */
  private async dropCancelled(task: ClaimedTask): Promise<void> {
    this.counts.cancelled++
    if (!(await this.hooks.settle({ action: 'ack', task }))) {
      this.options.log.warn({ channel: this.options.channel, taskId: task.taskId }, 'could not drop a cancelled task')
    }
  }

  /** No silent drop: a task that waited past `taskExpiryMs` goes to the dead letters as `expired`, logged by count. */
  private async buryExpired(task: ClaimedTask): Promise<void> {
    const { store, channel, log } = this.options
    const stack = expiredTaskDetail(store.options?.taskExpiryMs, 0)
    if (await this.hooks.settle({ action: 'bury', task, failure: { error: EXPIRED_TASK_ERROR, stack } })) {
      this.counts.dead++
      this.expiredReporter.record(channel, 1)
    } else {
      log.warn({ channel, taskId: task.taskId }, 'could not bury an expired task; it comes back after its deadline')
    }
  }

  private async fail(task: ClaimedTask, ctx: TaskAttempt, error: unknown, seconds: number): Promise<void> {
    this.counts.failed++
    const { willRetry, delayMs, settlement } = failureOutcome(task, error, this.options)
    const recorded = await this.hooks.settle(settlement)
    if (!recorded) {
      ctx.log.error({}, 'could not record a failed attempt; the task comes back after its deadline')
    } else if (delayMs !== undefined) {
      this.counts.retried++
      reportTaskAttempt(ctx.channel, 'retried', seconds)
      const { taskId, attempt } = task
      this.announce({ type: 'task.retrying', taskId, attempt, delayMs, ...failureFields(error) })
    } else {
      this.counts.dead++
      reportTaskAttempt(ctx.channel, 'dead', seconds)
      this.announce({ type: 'task.dead', taskId: task.taskId, ...failureFields(error) })
    }
    // The child logger is made on first use: skip it when the level drops the line anyway.
    if (this.options.log.isLevelEnabled('warn')) {
      ctx.log.warn(
        { err: error, willRetry, delayMs },
        willRetry ? 'task attempt failed; retrying' : 'task failed; dead-lettered',
      )
    }
    try {
      await this.options.onFailure(error, ctx, delayMs === undefined ? { willRetry } : { willRetry, delayMs })
    } catch (err) {
      ctx.log.error({ err }, 'onFailure hook failed')
    }
  }
}
