import { hostname } from 'node:os'

import { RedisUnavailableError, TaskTimeoutError } from '../src/errors.js'
import type { Message } from '../src/layers/channel-layer.js'
import type { Logger } from '../src/logger.js'
import { reportTaskAttempt } from '../src/monitoring/metrics-sink.js'
import type { ClaimedTask, TaskSettlement, TaskStore, WorkerReport } from '../src/tasks/task-store.js'
import { retryDelayMs } from './backoff.js'
import { NonRetryableError } from './control.js'
import type { RetryOptions, TaskContext } from './retry-options.js'
import { TaskAttempt } from './task-attempt.js'

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

/** A settlement waiting for the claim loop to record it, and who waits for that. */
interface PendingSettlement {
  readonly settlement: TaskSettlement
  /** true once recorded; false if the runner closed first (the claim then comes back after its deadline). */
  readonly recorded: (ok: boolean) => void
}

/**
 * The worker side of at-least-once delivery for one channel: claims tasks into free slots (at most
 * `concurrency` handlers at once), runs them with a per-attempt timeout, acks, schedules retries with backoff, or
 * buries them. Attempts that end within one event-loop turn are settled together, in the same store call that
 * claims tasks for the slots they freed (`TaskStore.settle`): on Redis one round trip per batch settles, claims
 * and starts (it was three per task: a worker's CPU went mostly to Redis calls, issue 8). A settlement that
 * cannot be recorded stays held (renewed) and goes with the next call, so a failed call loses nothing. One
 * renewal timer extends every claim held and one stalled check recovers claims of dead workers.
 */
export class TaskRunner {
  /** Every claim this runner holds until its settlement is recorded: what renewal extends and stop() waits for. */
  private readonly held = new Map<ClaimedTask, Promise<void>>()
  /** Attempts whose handler is running: these take the `concurrency` slots. */
  private readonly active = new Map<ClaimedTask, TaskAttempt>()
  /** Tasks stop() aborts to return them to the queue. */
  private readonly releasing = new Set<ClaimedTask>()
  /** Settlements the claim loop sends with its next call, in the order attempts ended. */
  private pending: PendingSettlement[] = []
  private readonly counts = { processed: 0, failed: 0, retried: 0, dead: 0, skippedDuplicates: 0 }
  private stopping = false
  /** Set at the end of stop(): the claim loop exits, dropping settlements it could not record. */
  private closed = false
  private wake: (() => void) | undefined
  private readonly timers: NodeJS.Timeout[] = []
  /** This worker's id in the store's worker registry: `<host>:<pid>:<channel>`. */
  readonly workerId: string
  private readonly host = hostname()
  private readonly startedAt = Date.now()
  private readonly timeoutMessage: string
  /** Set once stop() removed the worker from the registry: a report still on its way must not re-add it. */
  private forgotten = false

  constructor(private readonly options: TaskRunnerOptions) {
    this.workerId = `${this.host}:${process.pid}:${options.channel}`
    this.timeoutMessage = `The attempt ran past timeoutMs (${options.timeoutMs} ms)`
  }

  get stats(): TaskRunnerStats {
    return { ...this.counts, inFlight: this.held.size }
  }

  /** Claims, runs and settles tasks until `stop()`. */
  async run(): Promise<void> {
    const { store, channel, visibilityMs, concurrency, log } = this.options
    const tick = this.renewalMs()
    this.every(tick, async () => {
      await this.renew()
      await this.report()
    })
    this.every(tick, () => this.recover())
    void this.recover()
    void this.report()
    let idleMs = 1
    while (!this.closed) {
      // Let every attempt that ends in this turn of the event loop join the batch.
      await nextTick()
      const free = this.stopping ? 0 : concurrency - this.active.size
      if (this.pending.length === 0 && free <= 0) {
        if (this.stopping && this.held.size === 0) break
        await this.pause()
        continue
      }
      const batch = this.pending
      this.pending = []
      let claimed: ClaimedTask[]
      try {
        claimed = await store.settle(
          channel,
          batch.map((entry) => entry.settlement),
          Math.max(free, 0),
          visibilityMs,
        )
      } catch (err) {
        if (err instanceof RedisUnavailableError) {
          // At-least-once: the claims stay held (and renewed) and their settlements go with the next call.
          this.pending = batch.concat(this.pending)
          log.warn({ err, channel, settling: batch.length }, 'could not settle or claim tasks; retrying')
        } else {
          // Not worth repeating (a script error, a closed layer), and it must not hold up later settlements:
          // these claims come back after their deadline instead.
          for (const entry of batch) entry.recorded(false)
          log.error({ err, channel, settling: batch.length }, 'could not settle or claim tasks')
        }
        await this.pause(1_000)
        continue
      }
      for (const entry of batch) entry.recorded(true)
      if (claimed.length > 0) {
        idleMs = 1
        // stop() came while the claim was on its way: nothing may start after the signal.
        if (this.stopping) await this.giveBack(claimed)
        else for (const task of claimed) this.start(task)
      } else if (free > 0 && this.pending.length === 0) {
        // Nothing queued: poll with a backoff up to 100 ms (claims must move atomically, which BZPOPMIN cannot),
        // woken early when a running task ends.
        await this.pause(idleMs)
        idleMs = Math.min(100, idleMs * 2)
      }
    }
    for (const entry of this.pending.splice(0)) entry.recorded(false)
  }

  /** Stops claiming, waits up to `graceMs` for running tasks, then aborts them and returns their claims. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    this.wake?.()
    const pending = [...this.held.values()]
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled(pending), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))])
    clearTimeout(timer)
    // Only now: claims must be renewed while their tasks finish, or another worker recovers them as stalled and
    // runs them a second time while they are still running here.
    for (const interval of this.timers) clearInterval(interval)
    await this.forget()
    const leftover = [...this.active]
    for (const [task, attempt] of leftover) {
      // Returned below, uncounted: the abort must not also be recorded as a failed attempt (a retry, onFailure,
      // or dead letters when it was the last attempt).
      this.releasing.add(task)
      attempt.abort(new Error('the worker is shutting down'))
    }
    if (leftover.length > 0) await this.giveBack(leftover.map(([task]) => task))
    this.closed = true
    this.wake?.()
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
      if (duplicates.length > 0) {
        await store.settle(
          channel,
          duplicates.map((task) => ({ action: 'ack', task })),
          0,
          0,
        )
      }
      log.info({ channel, released: fresh.length }, 'returned unfinished tasks')
    } catch (err) {
      log.error({ err, channel }, 'could not return unfinished tasks; they come back after their deadline')
    }
  }

  private start(task: ClaimedTask): void {
    const done = this.execute(task).finally(() => {
      this.held.delete(task)
    })
    this.held.set(task, done)
  }

  /** Queues a settlement for the claim loop's next call; resolves once it is recorded (false: it never was). */
  private settle(settlement: TaskSettlement): Promise<boolean> {
    return new Promise((recorded) => {
      this.pending.push({ settlement, recorded })
      this.wake?.()
    })
  }

  private async execute(task: ClaimedTask): Promise<void> {
    const { channel, timeoutMs, log } = this.options
    if (task.alreadySucceeded) {
      // At-least-once redelivered a task that already succeeded: ack it without running it again.
      this.counts.skippedDuplicates++
      if (!(await this.settle({ action: 'ack', task }))) log.warn({ channel }, 'could not ack a duplicate')
      return
    }
    const attempt = new TaskAttempt(task, channel, log)
    this.active.set(task, attempt)
    const timer = setTimeout(() => {
      attempt.abort(new TaskTimeoutError(this.timeoutMessage))
    }, timeoutMs)
    const startedAt = performance.now()
    let result: unknown
    try {
      result = await attempt.run(this.options.handle(task.message, attempt))
    } catch (error) {
      clearTimeout(timer)
      this.active.delete(task)
      // Aborted by a shutdown past its grace period: stop() returns the claim; this is not the task's failure.
      if (this.releasing.delete(task)) return
      await this.fail(task, attempt, error, (performance.now() - startedAt) / 1000)
      return
    }
    clearTimeout(timer)
    this.active.delete(task)
    const acked = await this.settle(
      this.options.storeResults ? { action: 'ack', task, result } : { action: 'ack', task },
    )
    if (!acked) {
      log.warn({ channel, taskId: task.taskId }, 'could not ack a task; it comes back after its deadline')
      return
    }
    this.counts.processed++
    reportTaskAttempt(channel, 'succeeded', (performance.now() - startedAt) / 1000)
  }

  private async fail(task: ClaimedTask, ctx: TaskContext, error: unknown, seconds: number): Promise<void> {
    const { retry } = this.options
    this.counts.failed++
    const nonRetryable =
      error instanceof NonRetryableError || (error instanceof Error && error.name === 'NonRetryableError')
    const willRetry = !nonRetryable && this.options.retryOn(error) && task.attempt <= retry.maxRetries
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    const delayMs = willRetry ? retryDelayMs(task.attempt, retry, () => this.options.random()) : undefined
    // The stack only for dead letters: formatting one (source-mapped, under tsx) costs more CPU than the rest
    // of a retry, and a retry records only the message.
    const stack = delayMs === undefined && error instanceof Error ? error.stack : undefined
    const recorded = await this.settle(
      delayMs === undefined
        ? { action: 'bury', task, failure: stack === undefined ? { error: message } : { error: message, stack } }
        : { action: 'retry', task, delayMs, failure: { error: message } },
    )
    if (!recorded) {
      ctx.log.error({}, 'could not record a failed attempt; the task comes back after its deadline')
    } else if (delayMs !== undefined) {
      this.counts.retried++
      reportTaskAttempt(ctx.channel, 'retried', seconds)
    } else {
      this.counts.dead++
      reportTaskAttempt(ctx.channel, 'dead', seconds)
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

  /** Pushes every live claim's deadline: one Redis call per tick for the whole worker. */
  private async renew(): Promise<void> {
    const tasks = [...this.held.keys()]
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
      inFlight: this.held.size,
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

/** Resolves after the current microtask queue has drained: attempts that end together settle together. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => {
    process.nextTick(resolve)
  })
}
