import type { DeadLetterStore } from './dead-letter-store.js'
import type { ProcessRegistry } from './process-registry.js'
import type { TaskCancellation } from './task-cancellation.js'
import type { FlowControl } from './flows/flow-types.js'
import type { ScheduleStore } from './schedules/schedule-store.js'
import type { TaskQueue } from './task-queue.js'

export { DEFAULT_TASK_STORE_OPTIONS, type TaskStoreOptions } from './task-store-options.js'
export type { DeadLetter, DeadLetterStore } from './dead-letter-store.js'
export {
  serverSnapshot,
  WORKER_FORGET_AFTER_MS,
  workerSnapshot,
  type ProcessRegistry,
  type ServerReport,
  type ServerSnapshot,
  type WorkerReport,
  type WorkerSnapshot,
} from './process-registry.js'
export { CANCELLABLE_STATUSES, type TaskCancellation } from './task-cancellation.js'
export {
  MAX_PROGRESS_BYTES,
  prepareProgress,
  progressGroup,
  type PreparedProgress,
  type TaskEvent,
} from './task-progress.js'
export type { FlowControl, FlowKind, FlowOptions, FlowState, FlowStep, FlowStepState } from './flows/flow-types.js'
export { MAX_FLOW_STEPS } from './flows/flow-types.js'
export type { ScheduleInfo, ScheduleStore, ScheduleTick } from './schedules/schedule-store.js'
export type { CatchUp, ScheduleOptions } from './schedules/schedule-options.js'
export type { ClaimedTask, TaskFailure, TaskQueue, TaskSettlement, TaskState, TaskStatus } from './task-queue.js'

/**
 * What a layer's `tasks` holds: its task queue (claims, settlements, states), its dead letters, and its registry of
 * live workers and servers (and its periodic schedules, `ScheduleStore`). Three concerns in one object because all three live where the channels do; code that
 * needs one takes that interface (the worker a `TaskQueue`, the CLI a `DeadLetterStore`, a server a
 * `ProcessRegistry`). Implemented by the in-memory layer (one process) and the Redis layer (survives process death);
 * `describeTaskStore` (test/conformance/task-store/) runs the same suite on both.
 */
export interface TaskStore
  extends TaskQueue, TaskCancellation, DeadLetterStore, ProcessRegistry, ScheduleStore, FlowControl {}

/** A layer that can run RetryingConsumers: both built-in layers are. */
export interface TaskCapableLayer {
  readonly tasks: TaskStore
}

export function hasTaskStore(layer: unknown): layer is TaskCapableLayer {
  return typeof layer === 'object' && layer !== null && typeof (layer as { tasks?: unknown }).tasks === 'object'
}
