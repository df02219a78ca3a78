import { TaskCancelledError } from '../errors.js'
import { settledBy } from '../settled-by.js'
import type { ClaimedTask } from '../tasks/task-store.js'
import { declareRateLimit } from './rate-limit-wait.js'
import { ClaimLoop } from './claim-loop.js'
import type { TaskAttempt } from './task-attempt.js'
import { TaskExecutor } from './task-executor.js'
import type { TaskRunnerOptions, TaskRunnerStats } from './task-runner-options.js'
import { TaskUpkeep } from './task-upkeep.js'

export type { FailureInfo, TaskRunnerOptions, TaskRunnerStats } from './task-runner-options.js'

/**
 * The worker side of at-least-once delivery for one channel: claims tasks into free slots (at most
 * `concurrency` handlers at once), runs them with a per-attempt timeout, acks, schedules retries with backoff, or
 * buries them. Three parts do the work: the ClaimLoop settles finished attempts and claims new tasks in one store
 * call per batch (issue 8), a TaskExecutor takes each claimed task from start to settlement and counts outcomes,
 * and TaskUpkeep renews claims, reports to the worker registry and recovers stalled tasks on timers. The runner
 * itself owns the slots: which claims it holds, which run, which wait for a slot, and shutdown.
 */
export class TaskRunner {
  /** Every claim this runner holds until its settlement is recorded: what renewal extends and stop() waits for. */
  private readonly held = new Map<ClaimedTask, Promise<void>>()
  /** Attempts whose handler is running: these take the `concurrency` slots. */
  private readonly active = new Map<ClaimedTask, TaskAttempt>()
  /** Claims waiting for a slot (prefetched by the ClaimLoop), held like running ones; `done` ends their held entry. */
  private readonly ready: { readonly task: ClaimedTask; readonly done: () => void }[] = []
  /** Tasks stop() aborts to return them to the queue. */
  private readonly releasing = new Set<ClaimedTask>()
  /** Claims whose task was cancelled (`layer.tasks.cancel`): not started, or aborted and dropped. */
  private readonly cancelled = new WeakSet<ClaimedTask>()
  private stopping = false
  private unwatchCancellations: (() => void) | undefined
  /** Moving average of attempt durations, ms (infinite until one ended): decides whether to pipeline. */
  private attemptMs = Number.POSITIVE_INFINITY
  private readonly upkeep: TaskUpkeep
  private readonly loop: ClaimLoop
  private readonly executor: TaskExecutor

  constructor(private readonly options: TaskRunnerOptions) {
    this.upkeep = new TaskUpkeep({
      ...options,
      held: () => this.held.keys(),
      counters: () => {
        const { processed, failed, retried, dead } = this.executor.counts
        return { inFlight: this.held.size, processed, failed, retried, dead }
      },
      cancelled: (tasks) => {
        this.cancel(tasks)
      },
    })
    this.loop = new ClaimLoop(options, {
      occupied: () => this.active.size + this.ready.length,
      held: () => this.held.size,
      attemptMs: () => this.attemptMs,
      stopping: () => this.stopping,
      admit: (task) => {
        this.admit(task)
      },
      giveBack: (tasks) => this.giveBack(tasks),
      recorded: () => {
        this.upkeep.reportSoon()
      },
    })
    this.executor = new TaskExecutor(options, {
      settle: (settlement) => this.loop.settle(settlement),
      started: (task, attempt) => {
        this.active.set(task, attempt)
      },
      ended: (task, startedAt) => {
        this.vacate(task, startedAt)
      },
      released: (task) => this.releasing.delete(task),
      cancelled: (task) => this.cancelled.has(task),
    })
  }

  /** This worker's id in the store's worker registry: `<host>:<pid>:<channel>`. */
  get workerId(): string {
    return this.upkeep.workerId
  }

  get stats(): TaskRunnerStats {
    return { ...this.executor.counts, inFlight: this.held.size }
  }

  /** Claims, runs and settles tasks until `stop()`. */
  async run(): Promise<void> {
    await this.declareChannel()
    // A cancel made in this process aborts at once; others are found on the renewal tick (task-upkeep.ts).
    this.unwatchCancellations = this.options.store.watchCancellations?.((taskId) => {
      this.cancel([...this.held.keys()].filter((task) => task.taskId === taskId))
    })
    this.upkeep.start()
    await this.loop.run()
  }

  /** Stops claiming, waits up to `graceMs` for running tasks, then aborts them and returns their claims. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true
    this.loop.wake()
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
    await settledBy(Promise.allSettled(this.held.values()), Date.now() + graceMs)
    // What is left goes back within graceMs more: a store that does not answer (a frozen or cut-off Redis, where a
    // command waits for ever) must not hold the worker; its claims then return to the queue after their visibility.
    const returnBy = Date.now() + graceMs
    // Only now: claims must be renewed while their tasks finish, or another worker recovers them as stalled and
    // runs them a second time while they are still running here.
    await settledBy(this.upkeep.stop(), returnBy)
    this.unwatchCancellations?.()
    const leftover = [...this.active]
    for (const [task, attempt] of leftover) {
      // Returned below, uncounted: the abort must not also be recorded as a failed attempt (a retry, onFailure,
      // or dead letters when it was the last attempt).
      this.releasing.add(task)
      attempt.abort(new Error('the worker is shutting down'))
    }
    if (leftover.length > 0) await settledBy(this.giveBack(leftover.map(([task]) => task)), returnBy)
    this.loop.close()
    // Task ends still on their way to progress groups leave before the layer may close (at most graceMs more).
    await settledBy(this.executor.announced(), Date.now() + graceMs)
  }

  /** Aborts the attempts of cancelled tasks (their claims are then dropped); one waiting for a slot never starts. */
  private cancel(tasks: readonly ClaimedTask[]): void {
    // The renewal tick finds again what a notice already cancelled while its attempt winds down.
    const fresh = tasks.filter((task) => !this.cancelled.has(task))
    if (fresh.length === 0) return
    for (const task of fresh) {
      this.cancelled.add(task)
      this.active.get(task)?.abort(new TaskCancelledError(`Task "${task.taskId}" was cancelled`))
    }
    this.options.log.info({ channel: this.options.channel, cancelled: fresh.length }, 'cancelled running tasks')
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
    await declareRateLimit(this.options)
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
      void this.executor.execute(next.task).finally(() => {
        this.held.delete(next.task)
        next.done()
      })
    }
  }

  private start(task: ClaimedTask): void {
    const done = this.executor.execute(task).finally(() => {
      this.held.delete(task)
    })
    this.held.set(task, done)
  }
}
