import { RedisUnavailableError, TaskTimeoutError } from '../errors.js'
import { reportTaskAttempt } from '../diagnostics.js'
import { DropReporter } from '../drop-reporter.js'
import { EXPIRED_TASK_ERROR, EXPIRED_TASKS, expiredTaskDetail } from '../tasks/expired-tasks.js'
import type { ClaimedTask, TaskSettlement } from '../tasks/task-store.js'
import type { TaskContext } from './retry-options.js'
import { TaskAttempt } from './task-attempt.js'
import { failureOutcome } from './task-failure.js'
import type { TaskRunnerOptions, TaskRunnerStats } from './task-runner-options.js'
import { TaskUpkeep } from './task-upkeep.js'

export type { FailureInfo, TaskRunnerOptions, TaskRunnerStats } from './task-runner-options.js'

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
 * cannot be recorded stays held (renewed) and goes with the next call, so a failed call loses nothing. While
 * attempts are short, two calls may be in flight and up to `min(concurrency, 16)` claims wait (held, renewed) for
 * a slot, so Node runs one call's tasks while Redis runs the other call (one call at a time left each side idle
 * half the time). Renewal, the registry report and the stalled check run on timers (TaskUpkeep).
 */
export class TaskRunner {
  /** Every claim this runner holds until its settlement is recorded: what renewal extends and stop() waits for. */
  private readonly held = new Map<ClaimedTask, Promise<void>>()
  /** Attempts whose handler is running: these take the `concurrency` slots. */
  private readonly active = new Map<ClaimedTask, TaskAttempt>()
  /** Claims waiting for a slot (at most MAX_PREFETCH), held like running ones; `done` ends their held entry. */
  private readonly ready: { readonly task: ClaimedTask; readonly done: () => void }[] = []
  /** Tasks stop() aborts to return them to the queue. */
  private readonly releasing = new Set<ClaimedTask>()
  /** Settlements the claim loop sends with its next call, in the order attempts ended. */
  private pending: PendingSettlement[] = []
  private readonly counts = { processed: 0, failed: 0, retried: 0, dead: 0, skippedDuplicates: 0 }
  private stopping = false
  /** Settle calls on their way (at most MAX_CALLS_IN_FLIGHT). */
  private readonly calls = new Set<Promise<void>>()
  /** Slots the claims of the calls on their way may fill. */
  private reserved = 0
  /** The last claim found nothing: the loop waits for a wake-up (or the fallback poll) before claiming again. */
  private idle = false
  /** Moving average of attempt durations, ms (infinite until one ended): decides whether to pipeline. */
  private attemptMs = Number.POSITIVE_INFINITY
  /** The last call failed: the claim loop waits (up to 1 s) before the next. */
  private failed = false
  /** Set at the end of stop(): the claim loop exits, dropping settlements it could not record. */
  private closed = false
  private wake: (() => void) | undefined
  private readonly upkeep: TaskUpkeep
  private readonly timeoutMessage: string
  private readonly expiredReporter: DropReporter

  constructor(private readonly options: TaskRunnerOptions) {
    this.upkeep = new TaskUpkeep({
      ...options,
      held: () => this.held.keys(),
      counters: () => {
        const { processed, failed, retried, dead } = this.counts
        return { inFlight: this.held.size, processed, failed, retried, dead }
      },
    })
    this.timeoutMessage = `The attempt ran past timeoutMs (${options.timeoutMs} ms)`
    this.expiredReporter = new DropReporter(options.log, 10_000, EXPIRED_TASKS)
  }

  /** This worker's id in the store's worker registry: `<host>:<pid>:<channel>`. */
  get workerId(): string {
    return this.upkeep.workerId
  }

  get stats(): TaskRunnerStats {
    return { ...this.counts, inFlight: this.held.size }
  }

  /** Claims, runs and settles tasks until `stop()`. */
  async run(): Promise<void> {
    const { concurrency } = this.options
    await this.declareChannel()
    this.upkeep.start()
    let pollNow = false
    while (!this.closed) {
      // Let every attempt that ends in this turn of the event loop join the batch.
      await nextTick()
      // Prefetch and a second call only pay while attempts are short: a long task hides the round trip anyway,
      // and a claim queued behind it would wait while another worker may be idle.
      const pipelined = this.attemptMs < PIPELINE_BELOW_MS
      const prefetch = pipelined ? Math.min(concurrency, MAX_PREFETCH) : 0
      if (this.calls.size >= (pipelined ? MAX_CALLS_IN_FLIGHT : 1)) {
        await this.pause()
        continue
      }
      if (this.failed) {
        // A second before the next call, cut short when an attempt ends or the other call returns.
        this.failed = false
        await this.pause(1_000)
        continue
      }
      // Up to `prefetch` claims wait for a slot, so the tasks one call brings can run while the next is in Redis.
      const room = concurrency + prefetch - this.active.size - this.ready.length - this.reserved
      const free = this.stopping ? 0 : Math.min(room, concurrency)
      if (this.pending.length === 0) {
        const idle = this.idle && !pollNow
        if (free <= 0 || (idle && this.calls.size > 0)) {
          if (this.stopping && this.held.size === 0 && this.calls.size === 0) break
          await this.pause()
          continue
        }
        if (idle) {
          // Nothing queued: wait for a sender's wake-up rather than poll (claims must move atomically, which a
          // blocking pop cannot), or for a running task to end; claim again after idlePollMs at the latest.
          await this.waitForWork()
          pollNow = true
          continue
        }
      }
      pollNow = false
      this.send(Math.max(free, 0))
    }
    await Promise.all(this.calls)
    for (const entry of this.pending.splice(0)) entry.recorded(false)
  }

  /**
   * Sends the pending settlements with a claim for up to `max` slots, without waiting: a second call may go out
   * while this one is in Redis, so Node runs one batch's tasks while Redis settles the other's (one call at a
   * time left each side idle half the time: issue 8).
   */
  private send(max: number): void {
    const batch = this.pending
    this.pending = []
    this.reserved += max
    const call: Promise<void> = this.exchange(batch, max).finally(() => {
      this.calls.delete(call)
      this.wake?.()
    })
    this.calls.add(call)
  }

  private async exchange(batch: PendingSettlement[], max: number): Promise<void> {
    const { store, channel, visibilityMs, log } = this.options
    let claimed: ClaimedTask[]
    try {
      claimed = await store.settle(
        channel,
        batch.map((entry) => entry.settlement),
        max,
        visibilityMs,
      )
    } catch (err) {
      this.reserved -= max
      this.failed = true
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
      return
    }
    // Released in the same turn the claims take their slots (start() fills `active` synchronously).
    this.reserved -= max
    for (const entry of batch) entry.recorded(true)
    this.upkeep.reportSoon()
    if (claimed.length > 0) {
      this.idle = false
      // stop() came while the claim was on its way: nothing may start after the signal.
      if (this.stopping) await this.giveBack(claimed)
      else for (const task of claimed) this.admit(task)
    } else if (max > 0) {
      this.idle = true
    }
  }

  /** Stops claiming, waits up to `graceMs` for running tasks, then aborts them and returns their claims. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    this.wake?.()
    // Claims that never started go back at once, uncounted, for other workers to run.
    const queued = this.ready.splice(0)
    if (queued.length > 0) {
      void this.giveBack(queued.map((entry) => entry.task)).finally(() => {
        for (const entry of queued) {
          this.held.delete(entry.task)
          entry.done()
        }
      })
    }
    const pending = [...this.held.values()]
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled(pending), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))])
    clearTimeout(timer)
    // Only now: claims must be renewed while their tasks finish, or another worker recovers them as stalled and
    // runs them a second time while they are still running here.
    await this.upkeep.stop()
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

  /**
   * Makes the channel a task channel for every process (its tasks never expire while workers are down). Not
   * fatal: every claim marks it too.
   */
  private async declareChannel(): Promise<void> {
    const { store, channel, log } = this.options
    try {
      await store.declareTaskChannels([channel])
    } catch (err) {
      log.warn({ err, channel }, 'could not declare the task channel; the first claim will')
    }
  }

  /** Runs a claim now if a slot is free, else queues it (held, so renewed) for the next slot. */
  private admit(task: ClaimedTask): void {
    // A duplicate or an expired task takes no slot (it does not run); a queue means every slot is taken (slots
    // are refilled as soon as they free).
    if (task.alreadySucceeded || task.expired === true || this.active.size < this.options.concurrency) {
      this.start(task)
      return
    }
    let started!: () => void
    this.held.set(
      task,
      new Promise((resolve) => {
        started = resolve
      }),
    )
    this.ready.push({ task, done: started })
  }

  /** Frees the slot of an attempt that ended and gives it to a queued claim. */
  private vacate(task: ClaimedTask, startedAt: number): void {
    this.active.delete(task)
    const ms = performance.now() - startedAt
    this.attemptMs = this.attemptMs === Number.POSITIVE_INFINITY ? ms : this.attemptMs * 0.9 + ms * 0.1
    this.refill()
  }

  /** Starts queued claims in the slots that are free. */
  private refill(): void {
    while (!this.stopping && this.ready.length > 0 && this.active.size < this.options.concurrency) {
      const next = this.ready.shift()
      if (next === undefined) return
      void this.execute(next.task).finally(() => {
        this.held.delete(next.task)
        next.done()
      })
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
    if (task.expired === true) {
      await this.buryExpired(task)
      return
    }
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
      this.vacate(task, startedAt)
      // Aborted by a shutdown past its grace period: stop() returns the claim; this is not the task's failure.
      if (this.releasing.delete(task)) return
      await this.fail(task, attempt, error, (performance.now() - startedAt) / 1000)
      return
    }
    clearTimeout(timer)
    this.vacate(task, startedAt)
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

  /** No silent drop: a task that waited past `taskExpiryMs` goes to the dead letters as `expired`, logged by count. */
  private async buryExpired(task: ClaimedTask): Promise<void> {
    const { store, channel, log } = this.options
    const stack = expiredTaskDetail(store.options?.taskExpiryMs, 0)
    if (await this.settle({ action: 'bury', task, failure: { error: EXPIRED_TASK_ERROR, stack } })) {
      this.counts.dead++
      this.expiredReporter.record(channel, 1)
    } else {
      log.warn({ channel, taskId: task.taskId }, 'could not bury an expired task; it comes back after its deadline')
    }
  }

  private async fail(task: ClaimedTask, ctx: TaskContext, error: unknown, seconds: number): Promise<void> {
    this.counts.failed++
    const { willRetry, delayMs, settlement } = failureOutcome(task, error, this.options)
    const recorded = await this.settle(settlement)
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

  /** Until the store says the channel may have tasks, a running attempt ends, stop() is called, or the poll is due. */
  private async waitForWork(): Promise<void> {
    const { store, channel } = this.options
    const controller = new AbortController()
    const woken = this.pause()
    const timeoutMs = this.options.idlePollMs ?? DEFAULT_IDLE_POLL_MS
    await Promise.race([woken, store.waitForTasks(channel, { timeoutMs, signal: controller.signal })])
    controller.abort()
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
}

/**
 * Settle calls the claim loop keeps on their way: while Redis runs one, Node runs the tasks the other brought,
 * so a worker is not idle while Redis works and Redis is not idle while the worker does.
 */
const MAX_CALLS_IN_FLIGHT = 2

/**
 * How often an idle worker claims anyway (ms): a Django send wakes nobody, so its task waits at most this long
 * for an idle worker; Switchyard's sends, retries and replays wake one at once. With the registry report and the
 * stalled check, an idle channel costs Redis about 1.3 commands a second (`npm run bench -- --only idle`; it
 * polled every 100 ms: about 10).
 */
const DEFAULT_IDLE_POLL_MS = 1_000

/** Attempts shorter than this on average (ms) are pipelined: two calls in flight and prefetched claims. */
const PIPELINE_BELOW_MS = 5

/** Most claims a runner holds beyond `concurrency`, waiting for a slot (fewer when `concurrency` is lower). */
const MAX_PREFETCH = 16

/** Resolves after the current microtask queue has drained: attempts that end together settle together. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => {
    process.nextTick(resolve)
  })
}
