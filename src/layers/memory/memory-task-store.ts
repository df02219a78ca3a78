import { randomUUID } from 'node:crypto'

import type { Message } from '../channel-layer.js'
import { DropReporter } from '../../drop-reporter.js'
import { assertChannelName } from '../names.js'
import { defaultLogger, type Logger } from '../../logger.js'
import { MemoryClaims } from './memory-claims.js'
import { MemoryFlows } from './memory-flows.js'
import type { TaskQueues } from './task-queues.js'
import type { FlowDriver } from '../../tasks/flows/flow-driver.js'
import { isFlowId } from '../../tasks/flows/flow-spec.js'
import { MemoryDeadLetterStore } from './memory-dead-letter-store.js'
import { MemoryProcessRegistry } from './memory-process-registry.js'
import { MemorySchedules } from './memory-schedules.js'
import { Schedules } from '../../tasks/schedules/schedule-store.js'
import { MemoryTaskIds } from './memory-task-ids.js'
import { EXPIRED_TASK_ERROR, expiredTaskDetail, EXPIRED_TASKS } from '../../tasks/expired-tasks.js'
import {
  assertClaimArguments,
  assertRetryDelayMs,
  assertSettleArguments,
  assertVisibilityMs,
  recoverStalledGraceMs,
} from '../../tasks/task-arguments.js'
import { TaskChannels } from '../../tasks/task-channels.js'
import { resolveRateLimit, type RateLimit } from '../../tasks/rate-limit.js'
import { SlidingWindows } from '../../tasks/sliding-window.js'
import { prepareProgress, progressGroup, type TaskEvent } from '../../tasks/task-progress.js'
import { TaskStoreParts } from '../../tasks/task-store-parts.js'
import { TaskStates } from './task-states.js'
import { TaskWakeups, type WaitForTasksOptions } from '../../tasks/task-wakeups.js'
import { CancelNotices } from '../../tasks/task-cancellation.js'
import {
  CANCELLABLE_STATUSES,
  DEFAULT_TASK_STORE_OPTIONS,
  type ClaimedTask,
  type DeadLetter,
  type TaskFailure,
  type TaskSettlement,
  type TaskState,
  type TaskStatus,
  type TaskStore,
  type TaskStoreOptions,
} from '../../tasks/task-store.js'

/** Counters since the store was created. */
export interface MemoryTaskStoreStats {
  /** Dead letters dropped because their channel held `deadLetterCapacity` (the oldest go first). */
  readonly deadLettersDropped: number
}

/**
 * The in-memory layer's `TaskStore`: at-least-once delivery inside one process, with everything the Redis store
 * does except surviving the process (claims, task states and dead letters live in this object). It is the task
 * queue itself, and holds the dead letters (`MemoryDeadLetterStore`) and the registry (`MemoryProcessRegistry`).
 *
 * - A claim is a unique token (its `payload`), so a late ack, retry or release from a worker whose claim was
 *   recovered never touches the claim of whoever took the task next.
 * - `taskId` is the message's string `idempotencyKey`, else an id per stored message and channel (`MemoryTaskIds`).
 * - A task that succeeded stays `succeeded` until its state is purged or its dead letter replayed: a copy that
 *   is retried, released, recovered or buried later does not reopen it, and claiming such a copy reports
 *   `alreadySucceeded`.
 * - Task states expire `taskStateRetentionMs` after their last change, and dead letters `deadLetterRetentionMs`
 *   after death, lazily on every call (like a Redis key TTL: no per-task timers).
 *
 * @example
 * ```ts
 * const layer = new InMemoryChannelLayer({ deadLetterCapacity: 1000 })
 * await layer.send('jobs.email', { type: 'email.send', userId: 42, idempotencyKey: 'welcome-42' })
 * const [task] = await layer.tasks.claim('jobs.email', 1, 30_000)
 * if (task !== undefined) await layer.tasks.ack(task)
 * ```
 */
export class MemoryTaskStore extends TaskStoreParts implements TaskStore {
  private readonly claims = new MemoryClaims()
  private readonly states: TaskStates
  private readonly taskChannels: TaskChannels
  private readonly taskIds = new MemoryTaskIds()
  protected readonly deadLetters: MemoryDeadLetterStore
  protected readonly registry = new MemoryProcessRegistry((operation) => this.begin(operation))
  private readonly scheduleRecords = new MemorySchedules()
  protected readonly schedules = new Schedules(this.scheduleRecords, (operation) => this.begin(operation))
  private readonly expiredReporter: DropReporter
  private readonly wakeups = new TaskWakeups()
  private readonly windows = new SlidingWindows()
  private readonly cancelNotices = new CancelNotices()
  private readonly flowRecords: MemoryFlows
  protected readonly flows: FlowDriver

  constructor(
    private readonly queues: TaskQueues,
    readonly options: TaskStoreOptions = DEFAULT_TASK_STORE_OPTIONS,
    private readonly log: Logger = defaultLogger(),
  ) {
    super()
    this.expiredReporter = new DropReporter(log, 10_000, EXPIRED_TASKS)
    this.states = new TaskStates(options.taskStateRetentionMs)
    this.taskChannels = new TaskChannels(options.taskChannels)
    this.flowRecords = new MemoryFlows(
      {
        state: (taskId) => this.states.get(taskId),
        sendTask: async (channel, message) => {
          this.taskChannels.declare(channel)
          await queues.send(channel, message)
        },
        cancel: (taskId) => this.cancel(taskId),
        preCancel: (channel, taskId) => {
          this.states.change({ channel, taskId }, { status: 'cancelled' }, Date.now())
          this.states.retire(taskId, Date.now())
        },
        retentionMs: options.taskStateRetentionMs,
        assertOpen: (operation) => {
          this.begin(operation)
        },
      },
      log,
    )
    this.flows = this.flowRecords.driver
    this.deadLetters = new MemoryDeadLetterStore(options, log, {
      begin: (operation) => this.begin(operation),
      revive: (letter) => {
        this.revive(letter)
      },
    })
  }

  async declareTaskChannels(channels: readonly string[]): Promise<void> {
    this.begin('declare task channels')
    for (const channel of channels) {
      assertChannelName(channel)
      this.taskChannels.declare(channel)
    }
  }

  async waitForTasks(channel: string, options: WaitForTasksOptions): Promise<void> {
    this.begin('wait for tasks')
    await this.wakeups.wait(channel, options)
  }

  /** The layer queued a message on `channel` (a send, or a task come due): an idle worker there wakes. */
  notifyQueued(channel: string): void {
    this.wakeups.notify(channel)
  }

  /** Whether `channel` carries tasks (the layer's `taskChannels`, or declared by a worker). */
  isTaskChannel(channel: string): boolean {
    return this.taskChannels.has(channel)
  }

  /** A send queued `message` on task channel `channel`: its task reads `queued` from now on, unless it has a state. */
  recordQueued(channel: string, message: Message): void {
    const taskId = this.taskIds.of(channel, message)
    if (this.states.get(taskId) === undefined)
      this.states.change({ channel, taskId }, { status: 'queued', attempts: 0 }, Date.now())
  }

  /**
   * A task waited in its queue past its expiry: it goes to the dead letters as `expired` (listed, replayable),
   * never dropped, and a warning names the channel and the count (never the payload).
   */
  buryExpired(channel: string, message: Message, expiryMs: number, now = Date.now()): void {
    const taskId = this.taskIds.of(channel, message)
    const previous = this.states.get(taskId)
    this.deadLetters.add({
      channel,
      taskId,
      message,
      error: EXPIRED_TASK_ERROR,
      stack: expiredTaskDetail(this.options.taskExpiryMs, expiryMs),
      attempts: previous?.attempts ?? 0,
      firstAttemptAt: previous?.firstAttemptAt ?? now,
      diedAt: now,
    })
    this.states.change({ channel, taskId }, { status: 'dead', lastError: EXPIRED_TASK_ERROR }, Date.now())
    this.expiredReporter.record(channel, 1)
    void this.flowRecords.ended(taskId)
  }

  async declareRateLimit(channel: string, limit: RateLimit | undefined): Promise<void> {
    this.begin('declare a rate limit')
    assertChannelName(channel)
    this.windows.declare(channel, resolveRateLimit(limit))
  }

  async rateLimitWaitMs(channel: string): Promise<number> {
    return this.windows.waitMs(channel, this.begin('read a rate limit'))
  }

  async claim(channel: string, max: number, visibilityMs: number): Promise<ClaimedTask[]> {
    const now = this.begin('claim tasks')
    assertClaimArguments(channel, max, visibilityMs)
    this.queues.refresh()
    const claimed: ClaimedTask[] = []
    const room = Math.min(max, this.windows.available(channel, now))
    while (claimed.length < room) {
      const message = this.queues.take(channel)
      if (message === undefined) break
      const task = this.start(channel, message, now, now + visibilityMs)
      if (task !== undefined) claimed.push(task)
    }
    this.windows.record(channel, now, claimed.length)
    return claimed
  }

  async ack(task: ClaimedTask, options?: { readonly result?: unknown }): Promise<void> {
    this.begin('ack a task')
    // Even a claim already recovered is marked: the requeued copy will then be acked without running.
    this.claims.remove(task)
    if (this.states.dropIfCancelled(task.taskId, Date.now())) return
    const previous = this.states.get(task.taskId)
    const hasResult = options !== undefined && 'result' in options
    this.states.change(
      task,
      {
        status: 'succeeded',
        attempts: previous?.attempts ?? task.attempt,
        result: hasResult ? options.result : previous?.result,
      },
      Date.now(),
    )
    await this.flowRecords.ended(task.taskId)
  }

  /** `countAttempt` false gives the attempt back (a settlement's `countAttempt`, for a `RateLimitedError`). */
  async retry(task: ClaimedTask, delayMs: number, failure: TaskFailure, countAttempt = true): Promise<void> {
    this.begin('retry a task')
    assertRetryDelayMs(delayMs)
    const claim = this.claims.remove(task)
    if (claim === undefined || this.states.dropIfCancelled(task.taskId, Date.now())) return
    const attempts = countAttempt ? {} : { attempts: Math.max((this.states.get(task.taskId)?.attempts ?? 1) - 1, 0) }
    this.states.change(task, { status: 'retrying', lastError: failure.error, ...attempts }, Date.now())
    this.queues.requeue(claim.channel, claim.message, delayMs)
  }

  async bury(task: ClaimedTask, failure: TaskFailure): Promise<void> {
    const now = this.begin('bury a task')
    const claim = this.claims.remove(task)
    if (claim === undefined || this.states.dropIfCancelled(task.taskId, Date.now())) return
    this.deadLetters.add({
      channel: claim.channel,
      taskId: claim.taskId,
      message: claim.message,
      error: failure.error,
      ...(failure.stack === undefined ? {} : { stack: failure.stack }),
      attempts: claim.attempt,
      firstAttemptAt: claim.firstAttemptAt,
      diedAt: now,
    })
    this.states.change(task, { status: 'dead', lastError: failure.error }, Date.now())
    await this.flowRecords.ended(task.taskId)
  }

  async settle(
    channel: string,
    settlements: readonly TaskSettlement[],
    max: number,
    visibilityMs: number,
  ): Promise<ClaimedTask[]> {
    // All or nothing, as on Redis: a bad argument fails the call before anything changed.
    assertSettleArguments(channel, settlements, max, visibilityMs)
    for (const settlement of settlements) {
      if (settlement.action === 'ack') {
        await this.ack(settlement.task, 'result' in settlement ? { result: settlement.result } : undefined)
      } else if (settlement.action === 'retry') {
        await this.retry(settlement.task, settlement.delayMs, settlement.failure, settlement.countAttempt !== false)
      } else {
        await this.bury(settlement.task, settlement.failure)
      }
    }
    return max === 0 ? [] : this.claim(channel, max, visibilityMs)
  }

  async extend(tasks: readonly ClaimedTask[], visibilityMs: number): Promise<void> {
    const now = this.begin('extend tasks')
    assertVisibilityMs(visibilityMs)
    for (const task of tasks) {
      const claim = this.claims.find(task)
      if (claim === undefined) continue
      claim.deadline = now + visibilityMs
      claim.stalledSince = undefined
    }
  }

  async release(tasks: readonly ClaimedTask[]): Promise<void> {
    this.begin('release tasks')
    for (const task of tasks) {
      const claim = this.claims.remove(task)
      if (claim === undefined || this.states.dropIfCancelled(claim.taskId, Date.now())) continue
      // The attempt never ran to an end: it does not count.
      const attempts = Math.max((this.states.get(claim.taskId)?.attempts ?? claim.attempt) - 1, 0)
      this.states.change(claim, { status: 'queued', attempts }, Date.now())
      this.queues.requeue(claim.channel, claim.message, 0)
    }
  }

  async recoverStalled(channel: string, graceMs = 0): Promise<number> {
    const now = this.begin('recover stalled tasks')
    const stalled = this.claims.takeStalled(channel, now, recoverStalledGraceMs(channel, graceMs))
    for (const claim of stalled) {
      // The attempt counts: its worker may have died halfway through it.
      this.states.change(claim, { status: 'queued' }, Date.now())
      this.queues.requeue(channel, claim.message, 0)
    }
    return stalled.length
  }

  async cancel(taskId: string): Promise<TaskStatus | undefined> {
    this.begin('cancel a task')
    const previous = this.states.get(taskId)
    if (previous === undefined) return isFlowId(taskId) ? this.flows.cancel(taskId) : undefined
    if (CANCELLABLE_STATUSES.has(previous.status)) {
      this.states.change(previous, { status: 'cancelled' }, Date.now())
      if (previous.status === 'running') this.cancelNotices.notify(taskId)
      await this.flowRecords.ended(taskId)
    }
    return previous.status
  }

  watchCancellations(listener: (taskId: string) => void): () => void {
    return this.cancelNotices.watch(listener)
  }

  async cancelledAmong(tasks: readonly ClaimedTask[]): Promise<ClaimedTask[]> {
    this.begin('check for cancelled tasks')
    return tasks.filter((task) => this.states.get(task.taskId)?.status === 'cancelled')
  }

  async getTaskState(taskId: string): Promise<TaskState | undefined> {
    this.begin('read a task state')
    const state = this.states.get(taskId)
    return state !== undefined || !isFlowId(taskId) ? state : this.flows.taskState(taskId)
  }

  async resumeFlows(): Promise<number> {
    this.begin('resume flows')
    return this.flowRecords.resume()
  }

  progressGroup(taskId: string): string {
    return progressGroup(taskId)
  }

  async reportProgress(task: ClaimedTask, data: unknown): Promise<void> {
    this.begin('report task progress')
    const { event } = prepareProgress(task.taskId, data)
    const state = this.states.get(task.taskId)
    if (state?.status !== 'running') return
    this.states.set(Object.freeze({ ...state, progress: event.data }))
    await this.queues.groupSend(progressGroup(task.taskId), event)
  }

  async sendTaskEvent(event: TaskEvent): Promise<void> {
    this.begin('send a task event')
    const group = progressGroup(event.taskId)
    // As on Redis (task-event-batcher.ts), where the send is what costs: a group nobody joined is not sent to.
    if (this.queues.hasListeners(group)) await this.queues.groupSend(group, event)
  }

  /** Claims being worked on, per channel (for `inspect()`). */
  inFlightCounts(): ReadonlyMap<string, number> {
    return this.claims.counts()
  }

  /** Dead letters kept, per channel (for `inspect()`). */
  deadLetterCounts(): ReadonlyMap<string, number> {
    this.deadLetters.purgeExpired(Date.now())
    return this.deadLetters.counts()
  }

  stats(): MemoryTaskStoreStats {
    return Object.freeze({ deadLettersDropped: this.deadLetters.droppedCount() })
  }

  /**
   * Forgets every claim, task state and dead letter: the layer's `flush()` and `close()` call this (a flushed
   * Redis prefix loses them too). Counters are kept.
   */
  clear(): void {
    this.wakeups.clear()
    this.windows.clear()
    this.claims.clear()
    this.states.clear()
    this.deadLetters.clear()
    this.registry.clear()
    this.flowRecords.clear()
    this.scheduleRecords.clear()
  }

  /** Checks the layer is open and purges what retention expired; returns now. */
  private begin(operation: string): number {
    this.queues.assertOpen(operation)
    const now = Date.now()
    this.states.purge(now)
    this.deadLetters.purgeExpired(now)
    return now
  }

  /** A replayed dead letter's task, back at the tail of its channel: a fresh task, whose success mark is gone. */
  private revive(letter: DeadLetter): void {
    this.states.delete(letter.taskId)
    this.states.change(
      letter,
      {
        status: 'queued',
        attempts: 0,
        firstAttemptAt: undefined,
        lastError: undefined,
        progress: undefined,
      },
      Date.now(),
    )
    this.queues.requeue(letter.channel, letter.message, 0)
  }

  /** Starts an attempt of a claimed message; undefined when its task was cancelled (the message is dropped). */
  private start(channel: string, message: Message, now: number, deadline: number): ClaimedTask | undefined {
    const taskId = this.taskIds.of(channel, message)
    if (this.states.dropIfCancelled(taskId, Date.now())) return undefined
    const previous = this.states.get(taskId)
    const token = randomUUID()
    const payload = Buffer.from(token)
    const firstAttemptAt = previous?.firstAttemptAt ?? now
    // A task that already succeeded is not attempted again: the caller acks it without running.
    const alreadySucceeded = previous?.status === 'succeeded'
    const attempt = alreadySucceeded ? previous.attempts : (previous?.attempts ?? 0) + 1
    this.claims.add({ channel, message, taskId, attempt, firstAttemptAt, deadline, stalledSince: undefined }, token)
    if (!alreadySucceeded)
      this.states.change({ channel, taskId }, { status: 'running', attempts: attempt, firstAttemptAt }, Date.now())
    return Object.freeze({ channel, payload, message, taskId, attempt, firstAttemptAt, alreadySucceeded })
  }
}
