import { hostname } from 'node:os'

import { TaskTimeoutError } from '../src/errors.js'
import type { Message } from '../src/layers/channel-layer.js'
import type { Logger } from '../src/logger.js'
import { reportTaskAttempt } from '../src/monitoring/metrics-sink.js'
import type { ClaimedTask, TaskStore, WorkerReport } from '../src/tasks/task-store.js'
import { retryDelayMs } from './backoff.js'
import { NonRetryableError } from './control.js'
import type { RetryOptions, TaskContext } from './retry-options.js'

/** What the runner reports to `onFailure` hooks besides the error. */
export interface FailureInfo {
  readonly willRetry: boolean
  /** The delay before the retry, when there is one. */
  readonly delayMs?: number
}

export interface TaskRunnerOptions {
  readonly store: TaskStore
  readonly channel: string
  readonly concurrency: number
  readonly visibilityMs: number
  readonly timeoutMs: number
  readonly retry: RetryOptions
  readonly storeResults: boolean
  readonly log: Logger
  retryOn(error: unknown): boolean
  random(): number
  handle(message: Message, ctx: TaskContext): Promise<unknown>
  onFailure(error: unknown, ctx: TaskContext, info: FailureInfo): Promise<void>
}

/** Counters of one runner, for logs, the dashboard and tests. */
export interface TaskRunnerStats {
  readonly processed: number
  readonly failed: number
  readonly retried: number
  readonly dead: number
  readonly skippedDuplicates: number
  readonly inFlight: number
}

interface Running {
  readonly task: ClaimedTask
  readonly controller: AbortController
  readonly done: Promise<void>
}

/**
 * The worker side of at-least-once delivery for one channel: claims up to `concurrency` tasks at a time, runs
 * them with a per-attempt timeout, acks, schedules retries with backoff, or buries them. One renewal timer
 * extends every live claim and one stalled check recovers claims of dead workers: two timers per runner, none
 * per task but the attempt timeout.
 */
export class TaskRunner {
  private readonly running = new Map<ClaimedTask, Running>()
  /** Tasks stop() aborts to return them to the queue. */
  private readonly releasing = new Set<ClaimedTask>()
  private readonly counts = { processed: 0, failed: 0, retried: 0, dead: 0, skippedDuplicates: 0 }
  private stopping = false
  private wake: (() => void) | undefined
  private readonly timers: NodeJS.Timeout[] = []
  /** This worker's id in the store's worker registry: `<host>:<pid>:<channel>`. */
  readonly workerId: string
  private readonly host = hostname()
  private readonly startedAt = Date.now()
  /** Set once stop() removed the worker from the registry: a report still on its way must not re-add it. */
  private forgotten = false

  constructor(private readonly options: TaskRunnerOptions) {
    this.workerId = `${this.host}:${process.pid}:${options.channel}`
  }

  get stats(): TaskRunnerStats {
    return { ...this.counts, inFlight: this.running.size }
  }

  /** Claims and runs tasks until `stop()`. */
  async run(): Promise<void> {
    const { store, channel, visibilityMs } = this.options
    const tick = this.renewalMs()
    this.every(tick, async () => {
      await this.renew()
      await this.report()
    })
    this.every(tick, () => this.recover())
    void this.recover()
    void this.report()
    let idleMs = 1
    while (!this.isStopping()) {
      const free = this.options.concurrency - this.running.size
      if (free <= 0) {
        await this.pause()
        continue
      }
      let claimed: ClaimedTask[]
      try {
        claimed = await store.claim(channel, free, visibilityMs)
      } catch (err) {
        this.options.log.warn({ err, channel }, 'could not claim tasks; retrying')
        await this.pause(1_000)
        continue
      }
      if (claimed.length === 0) {
        // Nothing queued: poll with a backoff up to 100 ms (claims must move atomically, which BZPOPMIN cannot).
        await this.pause(idleMs)
        idleMs = Math.min(100, idleMs * 2)
        continue
      }
      idleMs = 1
      if (this.isStopping()) {
        // stop() came while the claim was on its way: nothing may start after the signal.
        await this.giveBack(claimed)
        break
      }
      for (const task of claimed) this.start(task)
    }
  }

  /** Stops claiming, waits up to `graceMs` for running tasks, then aborts them and returns their claims. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    this.wake?.()
    const pending = [...this.running.values()]
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(pending.map((entry) => entry.done)),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ])
    clearTimeout(timer)
    // Only now: claims must be renewed while their tasks finish, or another worker recovers them as stalled and
    // runs them a second time while they are still running here.
    for (const interval of this.timers) clearInterval(interval)
    await this.forget()
    const leftover = [...this.running.values()]
    if (leftover.length === 0) return
    for (const entry of leftover) {
      // Returned below, uncounted: the abort must not also be recorded as a failed attempt (a retry, onFailure,
      // or dead letters when it was the last attempt).
      this.releasing.add(entry.task)
      entry.controller.abort(new Error('the worker is shutting down'))
    }
    await this.giveBack(leftover.map((entry) => entry.task))
  }

  /** Returns claims that will not run here to the queue; duplicates of succeeded tasks are acked instead. */
  private async giveBack(tasks: readonly ClaimedTask[]): Promise<void> {
    const { store, channel, log } = this.options
    // A release resets the task state to `queued` and gives its attempt back, which would erase the success a
    // duplicate (never started, never counted) is there to be skipped for.
    const fresh = tasks.filter((task) => !task.alreadySucceeded)
    const duplicates = tasks.filter((task) => task.alreadySucceeded)
    try {
      if (fresh.length > 0) await store.release(fresh)
      await Promise.all(duplicates.map((task) => store.ack(task)))
      log.info({ channel, released: fresh.length }, 'returned unfinished tasks')
    } catch (err) {
      log.error({ err, channel }, 'could not return unfinished tasks; they come back after their deadline')
    }
  }

  private isStopping(): boolean {
    return this.stopping
  }

  private start(task: ClaimedTask): void {
    const controller = new AbortController()
    const done = this.execute(task, controller).finally(() => {
      this.running.delete(task)
      this.wake?.()
    })
    this.running.set(task, { task, controller, done })
  }

  private async execute(task: ClaimedTask, controller: AbortController): Promise<void> {
    const { store, channel, timeoutMs } = this.options
    if (task.alreadySucceeded) {
      // At-least-once redelivered a task that already succeeded: ack it without running it again.
      this.counts.skippedDuplicates++
      await store.ack(task).catch((err: unknown) => {
        this.options.log.warn({ err, channel }, 'could not ack a duplicate')
      })
      return
    }
    const ctx: TaskContext = {
      attempt: task.attempt,
      taskId: task.taskId,
      channel,
      signal: controller.signal,
      log: this.options.log.child({ channel, taskId: task.taskId, attempt: task.attempt }),
    }
    const timer = setTimeout(() => {
      controller.abort(new TaskTimeoutError(`The attempt ran past timeoutMs (${timeoutMs} ms)`))
    }, timeoutMs)
    const startedAt = performance.now()
    try {
      const result = await raceAbort(this.options.handle(task.message, ctx), controller.signal)
      clearTimeout(timer)
      await store.ack(task, this.options.storeResults ? { result } : {})
      this.counts.processed++
      reportTaskAttempt(channel, 'succeeded', (performance.now() - startedAt) / 1000)
    } catch (error) {
      clearTimeout(timer)
      // Aborted by a shutdown past its grace period: stop() returns the claim; this is not the task's failure.
      if (this.releasing.delete(task)) return
      await this.fail(task, ctx, error, (performance.now() - startedAt) / 1000)
    }
  }

  private async fail(task: ClaimedTask, ctx: TaskContext, error: unknown, seconds: number): Promise<void> {
    const { store, retry } = this.options
    this.counts.failed++
    const nonRetryable =
      error instanceof NonRetryableError || (error instanceof Error && error.name === 'NonRetryableError')
    const willRetry = !nonRetryable && this.options.retryOn(error) && task.attempt <= retry.maxRetries
    const failure = {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
    }
    const delayMs = willRetry ? retryDelayMs(task.attempt, retry, () => this.options.random()) : undefined
    try {
      if (delayMs !== undefined) {
        await store.retry(task, delayMs, failure)
        this.counts.retried++
        reportTaskAttempt(ctx.channel, 'retried', seconds)
      } else {
        await store.bury(task, failure)
        this.counts.dead++
        reportTaskAttempt(ctx.channel, 'dead', seconds)
      }
    } catch (err) {
      ctx.log.error({ err }, 'could not record a failed attempt; the task comes back after its deadline')
    }
    ctx.log.warn(
      { err: error, willRetry, delayMs },
      willRetry ? 'task attempt failed; retrying' : 'task failed; dead-lettered',
    )
    try {
      await this.options.onFailure(error, ctx, delayMs === undefined ? { willRetry } : { willRetry, delayMs })
    } catch (err) {
      ctx.log.error({ err }, 'onFailure hook failed')
    }
  }

  /** Pushes every live claim's deadline: one Redis call per tick for the whole worker. */
  private async renew(): Promise<void> {
    const tasks = [...this.running.keys()]
    if (tasks.length === 0) return
    try {
      await this.options.store.extend(tasks, this.options.visibilityMs)
    } catch (err) {
      this.options.log.warn({ err, channel: this.options.channel }, 'could not extend task deadlines')
    }
  }

  private renewalMs(): number {
    return Math.max(50, Math.floor(this.options.visibilityMs / 3))
  }

  /** Tells the store's worker registry this worker is alive, with its counters (monitoring; never fatal). */
  private async report(): Promise<void> {
    if (this.forgotten) return
    const { store, channel, concurrency, log } = this.options
    const report: WorkerReport = {
      id: this.workerId,
      host: this.host,
      pid: process.pid,
      channel,
      concurrency,
      inFlight: this.running.size,
      processed: this.counts.processed,
      failed: this.counts.failed,
      retried: this.counts.retried,
      dead: this.counts.dead,
      startedAt: this.startedAt,
      renewalMs: this.renewalMs(),
    }
    try {
      await store.reportWorker(report)
    } catch (err) {
      log.debug({ err, channel }, 'could not report the worker')
    }
  }

  private async forget(): Promise<void> {
    this.forgotten = true
    try {
      await this.options.store.forgetWorker(this.workerId)
    } catch (err) {
      this.options.log.debug({ err, channel: this.options.channel }, 'could not remove the worker from the registry')
    }
  }

  private async recover(): Promise<void> {
    try {
      // The second phase waits one renewal tick after the first, whichever worker ran the first.
      const graceMs = Math.max(50, Math.floor(this.options.visibilityMs / 3))
      const recovered = await this.options.store.recoverStalled(this.options.channel, graceMs)
      if (recovered > 0) this.options.log.warn({ channel: this.options.channel, recovered }, 'recovered stalled tasks')
    } catch (err) {
      this.options.log.warn({ err, channel: this.options.channel }, 'stalled check failed')
    }
  }

  private pause(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(finish, ms)
      function finish(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = finish
    })
  }

  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => void task(), ms)
    timer.unref()
    this.timers.push(timer)
  }
}

/** Rejects with the signal's reason when it aborts first: a timed-out attempt fails even if it ignores its signal. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
