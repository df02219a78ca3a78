import type { Logger } from '../../../logger.js'
import type { Message } from '../../channel-layer.js'
import type { FlowBackend, FlowDriver, FlowEnd, FlowRecord, StepRef } from '../../../tasks/flows/flow-driver.js'
import type { FlowSpec } from '../../../tasks/flows/flow-spec.js'
import type { FlowKind, FlowStep } from '../../../tasks/flows/flow-types.js'
import type { TaskState } from '../../../tasks/task-queue.js'
import type { TaskStoreOptions } from '../../../tasks/task-store-options.js'
import type { RedisShard } from '../redis-shard.js'
import {
  FLOW_FIELDS,
  runFlowCreate,
  runFlowFinish,
  runFlowMark,
  runFlowOutboxSettle,
  type FlowFields,
} from '../scripts/flow-scripts.js'
import { outboxEntries, runTaskCancel, type FlowOutboxEntry } from '../scripts/task-scripts.js'
import { parseTaskState } from './task-state-fields.js'

export interface RedisFlowContext {
  readonly options: TaskStoreOptions
  readonly log: Logger
  /** The shard of a channel's queue and task states; a flow's record is on the shard its id hashes to. */
  shardFor(channel: string): RedisShard
  readonly shards: readonly RedisShard[]
  /** The layer's send of a flow step: send.lua with the step's tag (queued once, the state tagged). */
  sendFlowStep(channel: string, message: Message, tag: string): Promise<void>
}

/** Outbox entries older than this are the sweep's: younger ones are still being handled by their worker. */
const SWEEP_GRACE_MS = 2_000
/** Outbox entries a sweep takes per shard. */
const SWEEP_BATCH = 100

/**
 * Flows on Redis: each record a hash on the shard its id hashes to (flow-update.lua), each step an ordinary task
 * sent by send.lua with its tag, each step's end an entry in its shard's outbox (task-settle.lua, task-cancel.lua),
 * which moves the flow on (`advance`) and is removed only after that succeeded (flow-outbox.lua).
 */
export class RedisFlows implements FlowBackend {
  /** Every worker of the process sweeps on its own tick: one sweep per grace period is enough. */
  private lastSweepMs = Number.NEGATIVE_INFINITY

  constructor(private readonly ctx: RedisFlowContext) {}

  async create(spec: FlowSpec, nowMs: number): Promise<FlowRecord> {
    const { steps, then } = spec
    const shard = this.flowShard(spec.flowId)
    const fields = await shard.call((client) =>
      runFlowCreate(client, shard.keys, {
        flowId: spec.flowId,
        kind: spec.kind,
        spec: JSON.stringify(then === undefined ? { steps } : { steps, then }),
        nowMs,
      }),
    )
    const record = toRecord(spec.flowId, fields)
    if (record === undefined) throw new Error(`flow-update.lua did not store flow ${spec.flowId}`)
    return record
  }

  async load(flowId: string): Promise<FlowRecord | undefined> {
    const shard = this.flowShard(flowId)
    const fields = await shard.call((client) => client.hmget(shard.keys.flow(flowId), ...FLOW_FIELDS), {
      idempotent: true,
    })
    return toRecord(flowId, fields)
  }

  async markSucceeded(flowId: string, index: number): Promise<number> {
    const shard = this.flowShard(flowId)
    return shard.call((client) => runFlowMark(client, shard.keys, flowId, index), { idempotent: true })
  }

  async finish(flowId: string, status: FlowEnd, nowMs: number): Promise<void> {
    const retentionMs = this.ctx.options.taskStateRetentionMs
    const shard = this.flowShard(flowId)
    await shard.call((client) => runFlowFinish(client, shard.keys, { flowId, status, nowMs, retentionMs }), {
      idempotent: true,
    })
  }

  async sendStep(step: FlowStep & StepRef, tag: string): Promise<void> {
    await this.ctx.sendFlowStep(step.channel, { ...step.message, idempotencyKey: step.taskId }, tag)
  }

  async cancelStep(step: StepRef): Promise<void> {
    const unsent = { ...step, retentionMs: this.ctx.options.taskStateRetentionMs }
    const shard = this.ctx.shardFor(step.channel)
    await shard.call((client) => runTaskCancel(client, shard.keys, step.taskId, Date.now(), unsent), {
      idempotent: true,
    })
  }

  async stepStates(steps: readonly StepRef[]): Promise<(TaskState | undefined)[]> {
    const states: (TaskState | undefined)[] = []
    // One pipelined read per shard, whatever the number of steps.
    const byShard = new Map<RedisShard, number[]>()
    steps.forEach((step, i) => {
      const shard = this.ctx.shardFor(step.channel)
      byShard.set(shard, [...(byShard.get(shard) ?? []), i])
    })
    for (const [shard, indexes] of byShard) {
      const replies = await shard.call(
        async (client) => {
          const pipeline = client.pipeline()
          for (const i of indexes) pipeline.hgetall(shard.keys.taskState(steps[i]?.taskId ?? ''))
          return (await pipeline.exec()) ?? []
        },
        { idempotent: true },
      )
      indexes.forEach((index, i) => {
        const [error, fields] = replies[i] ?? [null, {}]
        if (error !== null) throw error
        states[index] = parseTaskState(steps[index]?.taskId ?? '', fields as Record<string, string>)
      })
    }
    return steps.map((_step, i) => states[i])
  }

  /**
   * Moves on the flows of `entries` (outbox entries on `shard`), then removes the entries whose flow moved on. One
   * that fails stays for the sweep (its next send may have found the channel full); never throws.
   */
  async advance(driver: FlowDriver, shard: RedisShard, entries: readonly FlowOutboxEntry[]): Promise<number> {
    const settled: { entry: FlowOutboxEntry; done: boolean }[] = []
    for (const entry of entries) {
      try {
        await driver.advanceTag(entry.tag)
        settled.push({ entry, done: true })
      } catch (err) {
        settled.push({ entry, done: false })
        this.ctx.log.warn({ err, tag: entry.tag }, 'a flow could not move on; trying again later')
      }
    }
    try {
      await shard.call((client) => runFlowOutboxSettle(client, shard.keys, Date.now(), settled), {
        idempotent: true,
      })
    } catch (err) {
      this.ctx.log.debug({ err }, 'could not clear flow outbox entries; the sweep will')
    }
    return settled.filter((entry) => entry.done).length
  }

  /** The sweep: the outbox entries left behind on every shard (their worker died, or the flow's send failed). */
  async resume(driver: FlowDriver): Promise<number> {
    const now = Date.now()
    if (now - this.lastSweepMs < SWEEP_GRACE_MS) return 0
    this.lastSweepMs = now
    let handled = 0
    for (const shard of this.ctx.shards) {
      const flat = await shard.call(
        (client) =>
          client.zrangebyscore(
            shard.keys.flowOutbox,
            '-inf',
            now - SWEEP_GRACE_MS,
            'WITHSCORES',
            'LIMIT',
            0,
            SWEEP_BATCH,
          ),
        { idempotent: true },
      )
      handled += await this.advance(driver, shard, outboxEntries(flat))
    }
    return handled
  }

  private flowShard(flowId: string): RedisShard {
    return this.ctx.shardFor(flowId)
  }
}

function toRecord(flowId: string, fields: FlowFields): FlowRecord | undefined {
  const [kind, spec, status, createdAt, updatedAt] = fields
  if (kind == null || spec == null || status == null) return undefined
  const { steps, then } = JSON.parse(spec) as { readonly steps: readonly FlowStep[]; readonly then?: FlowStep }
  return Object.freeze({
    flowId,
    kind: kind as FlowKind,
    steps,
    ...(then === undefined ? {} : { then }),
    status: status as FlowRecord['status'],
    createdAt: Number(createdAt),
    updatedAt: Number(updatedAt),
  })
}
