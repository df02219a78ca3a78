import type { Logger } from '../../logger.js'
import { CANCELLABLE_STATUSES } from '../task-cancellation.js'
import type { TaskState, TaskStatus } from '../task-queue.js'
import { parseStepTag, resolveFlowSpec, stepAt, stepTag, stepTaskId, type FlowSpec } from './flow-spec.js'
import type { FlowControl, FlowOptions, FlowState, FlowStep, FlowStepState } from './flow-types.js'

/** How a flow ends. */
export type FlowEnd = 'succeeded' | 'dead' | 'cancelled'

/** A stored flow: its spec and whether it ended (a store keeps it `taskStateRetentionMs` after its end). */
export interface FlowRecord extends FlowSpec {
  readonly status: 'running' | FlowEnd
  readonly createdAt: number
  readonly updatedAt: number
}

/** A step's task: where it goes and its id. */
export interface StepRef {
  readonly channel: string
  readonly taskId: string
}

/** What the driver needs of a layer's task store; everything else about flows is written once, here. */
export interface FlowBackend {
  /** Stores `spec` as a running flow unless its id exists; resolves to the stored flow either way. */
  create(spec: FlowSpec, nowMs: number): Promise<FlowRecord>
  load(flowId: string): Promise<FlowRecord | undefined>
  /** Marks a chord's step `index` succeeded, once however often called; resolves to how many steps are. */
  markSucceeded(flowId: string, index: number): Promise<number>
  /** Ends a running flow (an ended one stays as it is). */
  finish(flowId: string, status: FlowEnd, nowMs: number): Promise<void>
  /**
   * Queues the step's task (its id in `idempotencyKey`) unless a task with that id is known, atomically, and
   * tags its state with `tag` so the task's end reaches the flow. Rejects as a send would (`ChannelFullError`).
   */
  sendStep(step: FlowStep & StepRef, tag: string): Promise<void>
  /** Cancels the step's task; one never sent is recorded cancelled, so a late send skips it. */
  cancelStep(step: StepRef): Promise<void>
  /** The steps' task states (undefined: not sent, or forgotten), in order. */
  stepStates(steps: readonly StepRef[]): Promise<(TaskState | undefined)[]>
}

/**
 * Chains and chords over a `FlowBackend`. Each step is sent once, under its own task id, by an atomic
 * "queue unless known" (so two workers finishing the same step, or a chord's last two steps at once, send the
 * next one once); what comes next is read from the steps' task states, never from a counter that a redelivered
 * step could bump twice. `advance` is idempotent: whoever learns that a step ended (the worker that settled it,
 * or a later sweep when that worker died first) may call it any number of times.
 */
export class FlowDriver implements FlowControl {
  /** `assertOpen(operation)` throws `LayerClosedError` once the layer is closed: checked first by every call. */
  constructor(
    private readonly backend: FlowBackend,
    private readonly log: Logger,
    private readonly assertOpen: (operation: string) => void,
  ) {}

  async chain(steps: readonly FlowStep[], options?: FlowOptions): Promise<string> {
    this.assertOpen('start a chain')
    return this.start(resolveFlowSpec('chain', steps, undefined, options))
  }

  async chord(steps: readonly FlowStep[], then: FlowStep, options?: FlowOptions): Promise<string> {
    this.assertOpen('start a chord')
    return this.start(resolveFlowSpec('chord', steps, then, options))
  }

  async getFlowState(flowId: string): Promise<FlowState | undefined> {
    this.assertOpen('read a flow state')
    return (await this.read(flowId))?.flow
  }

  /**
   * A flow read as a task (`getTaskState(flowId)`): its status, the channel of its current step, the attempts of
   * all its steps, and the whole `flow`.
   */
  async taskState(flowId: string): Promise<TaskState | undefined> {
    const read = await this.read(flowId)
    if (read === undefined) return undefined
    const { flow, states } = read
    const all = flow.then === undefined ? flow.steps : [...flow.steps, flow.then]
    const current = all.find((step) => step.status !== 'succeeded') ?? all[all.length - 1]
    return Object.freeze({
      taskId: flowId,
      channel: current?.channel ?? '',
      status: flow.status,
      attempts: states.reduce((sum, state) => sum + (state?.attempts ?? 0), 0),
      updatedAt: flow.updatedAt,
      flow,
    })
  }

  /**
   * Cancels a flow: it ends `cancelled`, its queued and running steps are cancelled, and the steps not yet sent
   * are recorded cancelled so that an `advance` already under way cannot send them. Resolves to its status before,
   * undefined for an unknown id (as `TaskCancellation.cancel`).
   */
  async cancel(flowId: string): Promise<TaskStatus | undefined> {
    const state = await this.getFlowState(flowId)
    if (state === undefined) return undefined
    if (!CANCELLABLE_STATUSES.has(state.status)) return state.status
    await this.backend.finish(flowId, 'cancelled', Date.now())
    for (const step of state.then === undefined ? state.steps : [...state.steps, state.then]) {
      if (step.status === undefined || CANCELLABLE_STATUSES.has(step.status)) await this.backend.cancelStep(step)
    }
    return state.status
  }

  /** A step's task ended (its state tagged `tag`, `stepTag`): send what comes next, or end the flow. */
  async advanceTag(tag: string): Promise<void> {
    const step = parseStepTag(tag)
    if (step === undefined) {
      this.log.warn({ tag }, 'ignoring a malformed flow step tag')
      return
    }
    await this.advance(step.flowId, step.index)
  }

  async advance(flowId: string, index: number): Promise<void> {
    const flow = await this.backend.load(flowId)
    if (flow?.status !== 'running') return
    const step = stepAt(flow, index)
    if (step === undefined) return
    const [state] = await this.backend.stepStates([{ channel: step.channel, taskId: stepTaskId(flow, index) }])
    const status = state?.status
    if (status === 'dead' || status === 'cancelled') {
      await this.backend.finish(flowId, status, Date.now())
      return
    }
    if (status !== 'succeeded') return
    const last = flow.kind === 'chain' ? flow.steps.length - 1 : flow.steps.length
    if (index === last) {
      await this.backend.finish(flowId, 'succeeded', Date.now())
    } else if (flow.kind === 'chain') {
      await this.send(flow, index + 1)
    } else if ((await this.backend.markSucceeded(flowId, index)) >= flow.steps.length) {
      await this.send(flow, flow.steps.length)
    }
  }

  /** The flow's state, and its steps' task states (a chord's `then` last). */
  private async read(
    flowId: string,
  ): Promise<{ readonly flow: FlowState; readonly states: readonly (TaskState | undefined)[] } | undefined> {
    const record = await this.backend.load(flowId)
    if (record === undefined) return undefined
    const refs = stepRefs(record)
    const states = await this.backend.stepStates(refs)
    const steps: FlowStepState[] = refs.map((ref, i) => {
      const status = states[i]?.status
      return Object.freeze(status === undefined ? { ...ref } : { ...ref, status })
    })
    const then = record.then === undefined ? undefined : steps.pop()
    const flow: FlowState = Object.freeze({
      flowId,
      kind: record.kind,
      status: record.status === 'running' ? runningStatus(steps, then) : record.status,
      steps: Object.freeze(steps),
      ...(then === undefined ? {} : { then }),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    })
    return { flow, states }
  }

  private async start(spec: FlowSpec): Promise<string> {
    const flow = await this.backend.create(spec, Date.now())
    if (flow.status !== 'running') return flow.flowId
    // Also on a second call with the same id: each send is skipped when its task is known.
    const first = flow.kind === 'chain' ? [0] : flow.steps.map((_step, i) => i)
    try {
      for (const index of first) await this.send(flow, index)
    } catch (error) {
      // Never half a flow with an id nobody holds: what was sent is cancelled, and the caller gets the error.
      await this.cancel(flow.flowId).catch((err: unknown) => {
        this.log.warn({ err, flowId: flow.flowId }, 'could not cancel a flow whose start failed')
      })
      throw error
    }
    return flow.flowId
  }

  private async send(flow: FlowSpec, index: number): Promise<void> {
    const step = stepAt(flow, index)
    if (step === undefined) return
    const taskId = stepTaskId(flow, index)
    await this.backend.sendStep({ ...step, taskId }, stepTag(flow.flowId, index))
  }
}

/** Every step's task, a chord's `then` last. */
function stepRefs(flow: FlowSpec): StepRef[] {
  const count = flow.steps.length + (flow.then === undefined ? 0 : 1)
  return Array.from({ length: count }, (_unused, i) => ({
    channel: stepAt(flow, i)?.channel ?? '',
    taskId: stepTaskId(flow, i),
  }))
}

/** A flow not yet ended by an `advance`: what its steps say (a step's end may not have reached it yet). */
function runningStatus(steps: readonly FlowStepState[], then: FlowStepState | undefined): TaskStatus {
  const all = then === undefined ? steps : [...steps, then]
  if (all.some((step) => step.status === 'dead')) return 'dead'
  if (all.some((step) => step.status === 'cancelled')) return 'cancelled'
  if (all.every((step) => step.status === 'succeeded')) return 'succeeded'
  return all.some((step) => step.status !== undefined && step.status !== 'queued') ? 'running' : 'queued'
}
