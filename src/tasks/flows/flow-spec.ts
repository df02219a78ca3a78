import { randomUUID } from 'node:crypto'

import { InvalidOptionError } from '../../errors.js'
import { assertChannelName } from '../../layers/names.js'
import { prepareStoredMessage } from '../stored-message.js'
import { MAX_FLOW_STEPS, type FlowKind, type FlowStep } from './flow-types.js'

/** A flow as stored: checked, frozen, JSON-safe. A chord's `then` is its step `steps.length`. */
export interface FlowSpec {
  readonly flowId: string
  readonly kind: FlowKind
  readonly steps: readonly FlowStep[]
  readonly then?: FlowStep
}

/** No `.`: a step's task id is `<flow id>.<index>`, so no flow id is ever a step's. */
const FLOW_ID = /^[A-Za-z0-9_-]{1,80}$/

export function assertFlowId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !FLOW_ID.test(id)) {
    throw new InvalidOptionError('id', 'a flow id of 1 to 80 letters, digits, `_` or `-`', id)
  }
}

/** Whether `id` could name a flow (a task id with a `.` never does). */
export function isFlowId(id: string): boolean {
  return FLOW_ID.test(id)
}

/** The task id of step `index` (`steps.length`: a chord's `then`). */
export function stepTaskId(spec: FlowSpec, index: number): string {
  return index === spec.steps.length && spec.then !== undefined ? `${spec.flowId}.then` : `${spec.flowId}.${index}`
}

/** What a step's task state carries to name its flow (task-settle.lua copies it into the flow outbox). */
export function stepTag(flowId: string, index: number): string {
  return `${flowId} ${index}`
}

/** The flow and step a tag names, or undefined for anything else. */
export function parseStepTag(tag: string): { readonly flowId: string; readonly index: number } | undefined {
  const [flowId = '', index = '', ...rest] = tag.split(' ')
  if (rest.length > 0 || !isFlowId(flowId) || !/^\d{1,4}$/.test(index)) return undefined
  return { flowId, index: Number(index) }
}

/** Step `index` of the flow, `then` included; undefined past the end. */
export function stepAt(spec: FlowSpec, index: number): FlowStep | undefined {
  return index === spec.steps.length ? spec.then : spec.steps[index]
}

/** Checks `chain()`'s or `chord()`'s arguments once: step messages as a send would, plus the flow's own rules. */
export function resolveFlowSpec(kind: FlowKind, steps: unknown, then: unknown, options: unknown): FlowSpec {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidOptionError('options', 'an object', options)
  }
  const given = (options ?? {}) as { readonly id?: unknown }
  const flowId = given.id ?? randomUUID()
  assertFlowId(flowId)
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_FLOW_STEPS) {
    throw new InvalidOptionError('steps', `an array of 1 to ${MAX_FLOW_STEPS} steps`, steps)
  }
  const resolved = steps.map((step: unknown, i) => resolveStep(step, `steps[${i}]`))
  if (kind === 'chain') return Object.freeze({ flowId, kind, steps: Object.freeze(resolved) })
  return Object.freeze({ flowId, kind, steps: Object.freeze(resolved), then: resolveStep(then, 'then') })
}

function resolveStep(step: unknown, option: string): FlowStep {
  if (typeof step !== 'object' || step === null) {
    throw new InvalidOptionError(option, 'a step `{ channel, message }`', step)
  }
  const { channel, message } = step as { readonly channel?: unknown; readonly message?: unknown }
  assertChannelName(channel)
  const prepared = prepareStoredMessage(message, `${option}.message`, 'a flow')
  if ('idempotencyKey' in prepared) {
    throw new InvalidOptionError(
      `${option}.message`,
      'a message without `idempotencyKey` (a step’s task id is `<flow id>.<index>`; give the flow an `id` instead)',
      message,
    )
  }
  return Object.freeze({ channel, message: prepared })
}
