import type { Message } from '../../layers/channel-layer.js'
import type { TaskStatus } from '../task-status.js'

/** One step of a chain or a chord: a task sent to `channel` (served by a RetryingConsumer) when its turn comes. */
export interface FlowStep {
  readonly channel: string
  /**
   * JSON data only (a flow is stored until it ends) and no `idempotencyKey`: the step's task id is
   * `<flow id>.<index>` (`<flow id>.then` for a chord's `then`), which is what makes each step run once.
   */
  readonly message: Message
}

/** The options of `chain` and `chord`. */
export interface FlowOptions {
  /**
   * The flow's id: 1 to 80 letters, digits, `_` or `-` (no `.`, which separates a step's index). Calling again
   * with the same id starts nothing new: it finishes sending what an interrupted call did not, and returns the id.
   * @defaultValue a random UUID
   */
  readonly id?: string
}

export type FlowKind = 'chain' | 'chord'

/** A step's task, as `getFlowState` reports it: `status` is undefined until the step is sent. */
export interface FlowStepState {
  readonly taskId: string
  readonly channel: string
  readonly status?: TaskStatus
}

/**
 * Where a chain or a chord is (`getFlowState`, or `getTaskState(flowId).flow`). Its status: `queued` until a step
 * runs, `running` until the last step (a chain) or `then` (a chord) succeeded, then `succeeded`; `dead` once a step
 * died (the steps after it are never sent), `cancelled` once it or one of its steps was cancelled.
 */
export interface FlowState {
  readonly flowId: string
  readonly kind: FlowKind
  readonly status: TaskStatus
  readonly steps: readonly FlowStepState[]
  /** A chord's last task, sent once every step succeeded. */
  readonly then?: FlowStepState
  /** Unix ms. */
  readonly createdAt: number
  /** Unix ms of the flow's own last change (a step sent, its end). */
  readonly updatedAt: number
}

/**
 * Chains and chords (issue 17): tasks that run one after another, or in parallel and then one more, on top of the
 * task store's at-least-once delivery. Each step is an ordinary task (retried, dead-lettered, cancellable and
 * observable like any), sent once under its own id when its turn comes; where a worker dies between a step's end
 * and the next send, another worker finishes the send (docs/topics/background-tasks.md, "Chains and chords").
 */
export interface FlowControl {
  /**
   * Runs `steps` one after another: each is sent when the one before succeeded; a step that dies (or is
   * cancelled) ends the chain there. Resolves to the flow's id once the first step is queued.
   *
   * @example
   * ```ts
   * const id = await layer.tasks.chain([
   *   { channel: 'images', message: { type: 'image.resize', imageId: 7 } },
   *   { channel: 'images', message: { type: 'image.publish', imageId: 7 } },
   * ])
   * ```
   */
  chain(steps: readonly FlowStep[], options?: FlowOptions): Promise<string>
  /**
   * Runs `steps` in parallel and sends `then` exactly once, after all of them succeeded (however often they were
   * retried or redelivered); if one dies, `then` is never sent. Resolves to the flow's id once every step is queued.
   */
  chord(steps: readonly FlowStep[], then: FlowStep, options?: FlowOptions): Promise<string>
  /** Where the flow is, or undefined for an unknown id (or a finished flow past `taskStateRetentionMs`). */
  getFlowState(flowId: string): Promise<FlowState | undefined>
}

/** Most steps in one flow: its state is read step by step. */
export const MAX_FLOW_STEPS = 1_000
