import type { Message, MessageValue } from '../layers/channel-layer.js'
import type { FlowState } from './flows/flow-types.js'
import type { RateLimit } from './rate-limit.js'
import type { TaskEvent } from './task-progress.js'
import type { TaskStoreOptions } from './task-store-options.js'
import type { TaskStatus } from './task-status.js'
import type { WaitForTasksOptions } from './task-wakeups.js'

export type { TaskStatus } from './task-status.js'

/** What `getTaskState(id)` returns: kept for `taskStateRetentionMs` after the last change. */
export interface TaskState {
  readonly taskId: string
  readonly channel: string
  readonly status: TaskStatus
  /** Attempts started so far. */
  readonly attempts: number
  /** The last failure's message, if any. */
  readonly lastError?: string
  /** Unix ms of the last change. */
  readonly updatedAt: number
  /** Unix ms when the task was first claimed. */
  readonly firstAttemptAt?: number
  /** Set only when the consumer opts into storing results (`static storeResults = true`). */
  readonly result?: unknown
  /** The latest `ctx.progress(data)` of a running attempt (kept through retries and the end; issue 17). */
  readonly progress?: MessageValue
  /** Set when the id is a chain's or a chord's (`layer.tasks.chain`, `chord`): its steps, and where each is. */
  readonly flow?: FlowState
}

/** A message taken from a channel for processing, invisible to other workers until acked or its deadline. */
export interface ClaimedTask {
  readonly channel: string
  /** This claim's handle (opaque): acks, retries and releases address the claim by it, never a later re-claim. */
  readonly payload: Buffer
  readonly message: Message
  readonly taskId: string
  /** 1 for the first run. */
  readonly attempt: number
  readonly firstAttemptAt: number
  /** The task already succeeded within the idempotency window: ack it without running. */
  readonly alreadySucceeded: boolean
  /** It waited in the queue past `taskExpiryMs`: not started; the worker moves it to dead letters as `expired`. */
  readonly expired?: true
}

export interface TaskFailure {
  readonly error: string
  readonly stack?: string
}

/** How one attempt ended, for `settle`: what `ack`, `retry` and `bury` do, as a value a worker can batch. */
export type TaskSettlement =
  /** Succeeded; `result` is stored in the task state when the property is present. */
  | { readonly action: 'ack'; readonly task: ClaimedTask; readonly result?: unknown }
  | {
      readonly action: 'retry'
      readonly task: ClaimedTask
      readonly delayMs: number
      readonly failure: TaskFailure
      /** false: the attempt is given back (a `RateLimitedError`): the task state's attempt count drops by one. */
      readonly countAttempt?: false
    }
  | { readonly action: 'bury'; readonly task: ClaimedTask; readonly failure: TaskFailure }

/**
 * The task queue of a layer: at-least-once delivery on top of its channels' queues: claim moves a message into an in-flight set with a
 * visibility deadline, atomically; ack, retry (after a delay) or bury (dead letters) end the attempt. A worker
 * that dies leaves its claims in flight; `recoverStalled` returns them to the queue once their deadline has
 * passed twice in a row (two-phase, so a live worker whose renewal was late is not robbed).
 *
 * Implemented by the in-memory layer (one process) and the Redis layer (survives process death). The queued
 * messages are the layer's own, so a plain `send` (from Node or Django) feeds a RetryingConsumer.
 */
export interface TaskQueue {
  /** The store's retention and capacity settings (both built-in stores expose them). */
  readonly options?: TaskStoreOptions
  /**
   * Makes `channels` task channels (a worker does this for the channels it serves): their waiting messages never
   * expire (unless `taskExpiryMs`; then they are dead-lettered as `expired`), and a send records the task as
   * `queued`. On Redis this holds for every process on the prefix, and a worker removes the TTL channels_redis
   * puts on such a queue.
   */
  declareTaskChannels(channels: readonly string[]): Promise<void>
  /**
   * Resolves when `channel` may have new tasks (a Switchyard send, a retry or a replay come due), after
   * `timeoutMs` at the latest (a Django send wakes nobody), or when `signal` aborts; never rejects. What an idle
   * worker waits on instead of polling: on Redis, every idle channel of a process shares one blocking read.
   */
  waitForTasks(channel: string, options: WaitForTasksOptions): Promise<void>
  /**
   * Sets `channel`'s global rate limit (undefined removes it): claims of every worker together start at most
   * `max` tasks in any `perMs` window; the rest wait queued. The last declaration wins (a worker declares its
   * consumer's `static rateLimit` when it starts). On Redis it holds for every process on the prefix.
   */
  declareRateLimit?(channel: string, limit: RateLimit | undefined): Promise<void>
  /** Ms until `channel`'s rate limit lets a claim start a task: 0 when it does now (or there is no limit). */
  rateLimitWaitMs?(channel: string): Promise<number>
  /** Takes up to `max` messages (due delayed ones first), each visible again after `visibilityMs` unless extended. */
  claim(channel: string, max: number, visibilityMs: number): Promise<ClaimedTask[]>
  /** The task succeeded: forget the claim, record it (for `idempotencyWindowMs`). */
  ack(task: ClaimedTask, options?: { readonly result?: unknown }): Promise<void>
  /** The attempt failed: run it again after `delayMs`. */
  retry(task: ClaimedTask, delayMs: number, failure: TaskFailure): Promise<void>
  /** The task is dead: move it to the channel's dead letters. */
  bury(task: ClaimedTask, failure: TaskFailure): Promise<void>
  /**
   * Ends the attempts of `settlements` (claims of `channel`, in order), then claims up to `max` more (none when
   * 0): what a worker does each time tasks finish, one round trip for the lot on Redis. Settling is all or
   * nothing and safe to repeat after an error (a claim is only settled once); the claims come back after their
   * deadline if the call fails after claiming.
   */
  settle(
    channel: string,
    settlements: readonly TaskSettlement[],
    max: number,
    visibilityMs: number,
  ): Promise<ClaimedTask[]>
  /** Pushes the deadline of live claims (one call per worker tick, not per task). */
  extend(tasks: readonly ClaimedTask[], visibilityMs: number): Promise<void>
  /** Gives claims back to the queue without counting an attempt (graceful shutdown). */
  release(tasks: readonly ClaimedTask[]): Promise<void>
  /**
   * Returns to the queue claims whose deadline passed on two checks at least `graceMs` apart (the first check
   * only flags them); resolves to how many.
   */
  recoverStalled(channel: string, graceMs?: number): Promise<number>
  getTaskState(taskId: string): Promise<TaskState | undefined>
  /** The group that hears a task's events (`TaskEvent`: progress, retries, its end); see `progressGroup`. */
  progressGroup(taskId: string): string
  /**
   * Keeps `data` as the task's latest progress and sends `{ type: 'task.progress', taskId, data }` to its progress
   * group, if the task is running; otherwise does nothing (a late report never reopens a finished task). Throws
   * `MessageNotSerializableError` or `MessageTooLargeError` (`MAX_PROGRESS_BYTES`) for bad `data`.
   */
  reportProgress(task: ClaimedTask, data: unknown): Promise<void>
  /**
   * Moves on the chains and chords whose step ended without its flow hearing of it (its worker died in between,
   * or the next send failed): what each worker calls now and then; resolves to how many step ends it handled.
   */
  resumeFlows?(): Promise<number>
  /**
   * Sends `task.retrying`, `task.succeeded` or `task.dead` to the task's progress group (the worker does, for every
   * attempt); a group with no member and no history is skipped, so an unwatched task costs next to nothing.
   */
  sendTaskEvent(event: TaskEvent): Promise<void>
}
