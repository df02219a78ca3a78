import type { Message } from '../layers/channel-layer.js'
import type { ServerSnapshot, WorkerSnapshot } from '../monitoring/snapshot.js'
import type { WaitForTasksOptions } from './task-wakeups.js'

/** Where a task is in its life. */
export type TaskStatus = 'queued' | 'running' | 'retrying' | 'succeeded' | 'dead'

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

/** A task that exhausted its retries, or failed with a NonRetryableError. */
export interface DeadLetter {
  /** Unique per dead letter (a task that dies twice after a replay has two). */
  readonly id: string
  readonly channel: string
  readonly taskId: string
  readonly message: Message
  readonly error: string
  readonly stack?: string
  readonly attempts: number
  readonly firstAttemptAt: number
  readonly diedAt: number
}

/** What a worker (one TaskRunner: one channel in one process) reports about itself on every renewal tick. */
export interface WorkerReport {
  /** `<host>:<pid>:<channel>` */
  readonly id: string
  readonly host: string
  readonly pid: number
  readonly channel: string
  readonly concurrency: number
  readonly inFlight: number
  readonly processed: number
  readonly failed: number
  readonly retried: number
  readonly dead: number
  /** Unix ms when the worker started. */
  readonly startedAt: number
  /** How often it reports: a worker is alive while its last report is younger than three of these. */
  readonly renewalMs: number
}

/** What a server (the fastify `switchyard` plugin in one process) reports about itself every few seconds. */
export interface ServerReport {
  /** `<host>:<pid>:<port or 'unlistened'>` */
  readonly id: string
  readonly host: string
  readonly pid: number
  /** Live WebSocket connections. */
  readonly connections: number
  readonly accepted: number
  readonly rejected: number
  readonly closedSlow: number
  readonly droppedOutbound: number
  /** Unix ms when the server started. */
  readonly startedAt: number
  /** How often it reports: a server is alive while its last report is younger than three of these. */
  readonly reportIntervalMs: number
}

/** Registry entries (workers and servers) whose last report is older than this are dropped when listed. */
export const WORKER_FORGET_AFTER_MS = 3_600_000

/** A report as a snapshot: its heartbeat age and liveness at `now`. */
export function workerSnapshot(report: WorkerReport, beatAt: number, now: number): WorkerSnapshot {
  const { renewalMs: _renewalMs, ...fields } = report
  const heartbeatAgeMs = Math.max(0, now - beatAt)
  return { ...fields, heartbeatAgeMs, alive: heartbeatAgeMs < 3 * report.renewalMs }
}

/** A server report as a snapshot: its report age and liveness at `now`. */
export function serverSnapshot(report: ServerReport, beatAt: number, now: number): ServerSnapshot {
  const { reportIntervalMs: _reportIntervalMs, ...fields } = report
  const heartbeatAgeMs = Math.max(0, now - beatAt)
  return { ...fields, heartbeatAgeMs, alive: heartbeatAgeMs < 3 * report.reportIntervalMs }
}

export interface TaskFailure {
  readonly error: string
  readonly stack?: string
}

/** How one attempt ended, for `settle`: what `ack`, `retry` and `bury` do, as a value a worker can batch. */
export type TaskSettlement =
  /** Succeeded; `result` is stored in the task state when the property is present. */
  | { readonly action: 'ack'; readonly task: ClaimedTask; readonly result?: unknown }
  | { readonly action: 'retry'; readonly task: ClaimedTask; readonly delayMs: number; readonly failure: TaskFailure }
  | { readonly action: 'bury'; readonly task: ClaimedTask; readonly failure: TaskFailure }

/**
 * At-least-once delivery on top of a channel layer's queues: claim moves a message into an in-flight set with a
 * visibility deadline, atomically; ack, retry (after a delay) or bury (dead letters) end the attempt. A worker
 * that dies leaves its claims in flight; `recoverStalled` returns them to the queue once their deadline has
 * passed twice in a row (two-phase, so a live worker whose renewal was late is not robbed).
 *
 * Implemented by the in-memory layer (one process) and the Redis layer (survives process death). The queued
 * messages are the layer's own, so a plain `send` (from Node or Django) feeds a RetryingConsumer.
 */
export interface TaskStore {
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
  listDeadLetters(channel: string, options?: { readonly limit?: number }): Promise<DeadLetter[]>
  getDeadLetter(channel: string, id: string): Promise<DeadLetter | undefined>
  /** Puts dead letters back on their channel as fresh tasks (attempts reset); resolves to how many. */
  replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number>
  /**
   * Deletes dead letters older than `olderThanMs` (all when omitted); resolves to how many. With `dryRun`, only
   * counts them.
   */
  purgeDeadLetters(
    channel: string,
    options?: { readonly olderThanMs?: number; readonly dryRun?: boolean },
  ): Promise<number>
  /** Channels that have dead letters. */
  deadLetterChannels(): Promise<string[]>
  /** Records a worker's latest report (its heartbeat), replacing the previous one. */
  reportWorker(report: WorkerReport): Promise<void>
  /** Every worker that reported within the last hour, sorted by id (older entries are dropped). */
  listWorkers(): Promise<WorkerSnapshot[]>
  /** Removes a worker from the registry (it stopped). */
  forgetWorker(id: string): Promise<void>
  /** Records a server's latest report (connections and counters), replacing the previous one. */
  reportServer(report: ServerReport): Promise<void>
  /** Every server that reported within the last hour, sorted by id (older entries are dropped). */
  listServers(): Promise<ServerSnapshot[]>
  /** Removes a server from the registry (it closed). */
  forgetServer(id: string): Promise<void>
}

/** Options every task store takes; validated by the layer that owns it. */
export interface TaskStoreOptions {
  /** How long a task's state stays readable, and succeeded ids are remembered for idempotency. */
  readonly taskStateRetentionMs: number
  /** Dead letters kept per channel; the oldest go first (counted). */
  readonly deadLetterCapacity: number
  /** Dead letters older than this are purged automatically. */
  readonly deadLetterRetentionMs: number
  /** Channels declared task channels by the layer's options (compiled patterns). */
  readonly taskChannels: readonly RegExp[]
  /** How long a task may wait in its queue before it is dead-lettered as `expired`; undefined: no limit. */
  readonly taskExpiryMs: number | undefined
}

export const DEFAULT_TASK_STORE_OPTIONS: TaskStoreOptions = Object.freeze({
  taskStateRetentionMs: 3_600_000,
  deadLetterCapacity: 10_000,
  deadLetterRetentionMs: 7 * 86_400_000,
  taskChannels: Object.freeze([]),
  taskExpiryMs: undefined,
})

/** A layer that can run RetryingConsumers: both built-in layers are. */
export interface TaskCapableLayer {
  readonly tasks: TaskStore
}

export function hasTaskStore(layer: unknown): layer is TaskCapableLayer {
  return typeof layer === 'object' && layer !== null && typeof (layer as { tasks?: unknown }).tasks === 'object'
}
