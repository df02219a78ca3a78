// Typed wrappers of the flow scripts (issue 17): flow-update.lua and flow-outbox.lua. Each builds KEYS from keys.ts
// and KEYS and ARGV in the order its script's header states.

import type { FlowEnd } from '../../../tasks/flows/flow-driver.js'
import type { RedisKeys } from '../keys.js'
import { LuaScript } from '../lua-script.js'
import type { FlowOutboxEntry } from './task-scripts.js'
import type { RedisClient } from '../redis-shard.js'

const FLOW_SCRIPTS = {
  update: new LuaScript('flow-update'),
  outbox: new LuaScript('flow-outbox'),
} as const

/** The fields `create` returns and a load reads: kind, spec, status, createdAt, updatedAt. */
export const FLOW_FIELDS = ['kind', 'spec', 'status', 'createdAt', 'updatedAt'] as const

export type FlowFields = readonly (string | null)[]

/** flow-update.lua 'create': resolves to the stored flow's fields (FLOW_FIELDS), this one's or an earlier one's. */
export async function runFlowCreate(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly flowId: string; readonly kind: string; readonly spec: string; readonly nowMs: number },
): Promise<FlowFields> {
  return (await FLOW_SCRIPTS.update.run(
    client,
    [keys.flow(args.flowId)],
    ['create', args.kind, args.spec, args.nowMs],
  )) as FlowFields
}

/** flow-update.lua 'mark': resolves to how many of the chord's steps are marked succeeded. */
export async function runFlowMark(
  client: RedisClient,
  keys: RedisKeys,
  flowId: string,
  index: number,
): Promise<number> {
  return Number(await FLOW_SCRIPTS.update.run(client, [keys.flow(flowId)], ['mark', index]))
}

/** flow-update.lua 'finish': ends a running flow; the record is kept `retentionMs`. */
export async function runFlowFinish(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly flowId: string; readonly status: FlowEnd; readonly nowMs: number; readonly retentionMs: number },
): Promise<void> {
  await FLOW_SCRIPTS.update.run(client, [keys.flow(args.flowId)], ['finish', args.status, args.nowMs, args.retentionMs])
}

/**
 * flow-outbox.lua: of the entries still at the score they were read with, removes those `done` and sends the others
 * to the back of the outbox; resolves to how many were removed.
 */
export async function runFlowOutboxSettle(
  client: RedisClient,
  keys: RedisKeys,
  nowMs: number,
  entries: readonly { readonly entry: FlowOutboxEntry; readonly done: boolean }[],
): Promise<number> {
  if (entries.length === 0) return 0
  const args = entries.flatMap(({ entry, done }) => [entry.tag, entry.score, done ? 'done' : 'again'])
  return Number(await FLOW_SCRIPTS.outbox.run(client, [keys.flowOutbox], [nowMs, ...args]))
}
