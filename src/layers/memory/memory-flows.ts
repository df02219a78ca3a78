import type { Logger } from '../../logger.js'
import type { Message } from '../channel-layer.js'
import {
  FlowDriver,
  type FlowBackend,
  type FlowEnd,
  type FlowRecord,
  type StepRef,
} from '../../tasks/flows/flow-driver.js'
import { stepTaskId, type FlowSpec } from '../../tasks/flows/flow-spec.js'
import type { FlowStep } from '../../tasks/flows/flow-types.js'
import type { TaskState, TaskStatus } from '../../tasks/task-queue.js'

/** What the in-memory flows need of their task store and layer. */
export interface MemoryFlowContext {
  state(taskId: string): TaskState | undefined
  /** The layer's send, to `channel` made a task channel first (a step's task reads `queued` from the send). */
  sendTask(channel: string, message: Message): Promise<void>
  cancel(taskId: string): Promise<TaskStatus | undefined>
  /** Records a task never sent as cancelled. */
  preCancel(channel: string, taskId: string): void
  /** How long an ended flow is kept (`taskStateRetentionMs`). */
  readonly retentionMs: number
  /** Throws `LayerClosedError` once the layer is closed. */
  assertOpen(operation: string): void
}

interface MutableFlow {
  record: FlowRecord
  readonly succeeded: Set<number>
}

/**
 * The in-memory layer's flows (one process): records in a map, and the tags of the steps sent, by task id, which
 * the task store tells when a task ends (`ended`). An ended flow is forgotten after the retention, lazily, like a
 * finished task state.
 */
export class MemoryFlows implements FlowBackend {
  readonly driver: FlowDriver
  private readonly flows = new Map<string, MutableFlow>()
  /** Ended flows in end order (one retention: also expiry order). */
  private readonly endedAt = new Map<string, number>()
  private readonly tags = new Map<string, string>()
  /** Steps whose end could not move their flow on (the next send failed): `resumeFlows` tries again. */
  private readonly deferred = new Set<string>()

  constructor(
    private readonly ctx: MemoryFlowContext,
    private readonly log: Logger,
  ) {
    this.driver = new FlowDriver(this, log, (operation) => {
      ctx.assertOpen(operation)
    })
  }

  /**
   * A task ended (succeeded, dead or cancelled): if it is a running flow's step, the flow moves on. Never throws:
   * a flow whose next send failed (its channel full) is tried again by `resume`.
   */
  async ended(taskId: string): Promise<void> {
    const tag = this.tags.get(taskId)
    if (tag !== undefined) await this.advance(tag)
  }

  /** Tries again the flows whose next send failed; resolves to how many step ends it handled. */
  async resume(): Promise<number> {
    const tags = [...this.deferred]
    this.deferred.clear()
    let handled = 0
    for (const tag of tags) if (await this.advance(tag)) handled++
    return handled
  }

  async create(spec: FlowSpec, nowMs: number): Promise<FlowRecord> {
    this.purge(nowMs)
    const existing = this.flows.get(spec.flowId)
    if (existing !== undefined) return existing.record
    const record: FlowRecord = Object.freeze({ ...spec, status: 'running', createdAt: nowMs, updatedAt: nowMs })
    this.flows.set(spec.flowId, { record, succeeded: new Set() })
    return record
  }

  async load(flowId: string): Promise<FlowRecord | undefined> {
    this.purge(Date.now())
    return this.flows.get(flowId)?.record
  }

  async markSucceeded(flowId: string, index: number): Promise<number> {
    const flow = this.flows.get(flowId)
    flow?.succeeded.add(index)
    return flow?.succeeded.size ?? 0
  }

  async finish(flowId: string, status: FlowEnd, nowMs: number): Promise<void> {
    const flow = this.flows.get(flowId)
    if (flow?.record.status !== 'running') return
    flow.record = Object.freeze({ ...flow.record, status, updatedAt: nowMs })
    this.endedAt.set(flowId, nowMs)
    const count = flow.record.steps.length + (flow.record.then === undefined ? 0 : 1)
    for (let i = 0; i < count; i++) this.tags.delete(stepTaskId(flow.record, i))
  }

  async sendStep(step: FlowStep & StepRef, tag: string): Promise<void> {
    // One process: nothing runs between this check and the send's own synchronous part, which records the task.
    if (this.ctx.state(step.taskId) !== undefined) return
    this.tags.set(step.taskId, tag)
    try {
      await this.ctx.sendTask(step.channel, { ...step.message, idempotencyKey: step.taskId })
    } catch (error) {
      this.tags.delete(step.taskId)
      throw error
    }
  }

  async cancelStep(step: StepRef): Promise<void> {
    if ((await this.ctx.cancel(step.taskId)) === undefined) this.ctx.preCancel(step.channel, step.taskId)
  }

  async stepStates(steps: readonly StepRef[]): Promise<(TaskState | undefined)[]> {
    return steps.map((step) => this.ctx.state(step.taskId))
  }

  /** Resolves whether the flow moved on; if not, the tag waits for the next `resume`. */
  private async advance(tag: string): Promise<boolean> {
    try {
      await this.driver.advanceTag(tag)
      return true
    } catch (err) {
      this.deferred.add(tag)
      this.log.warn({ err, tag }, 'a flow could not send its next step; trying again later')
      return false
    }
  }

  clear(): void {
    this.flows.clear()
    this.endedAt.clear()
    this.tags.clear()
    this.deferred.clear()
  }

  private purge(nowMs: number): void {
    const cutoff = nowMs - this.ctx.retentionMs
    for (const [flowId, endedAt] of this.endedAt) {
      if (endedAt > cutoff) break
      this.endedAt.delete(flowId)
      this.flows.delete(flowId)
    }
  }
}
