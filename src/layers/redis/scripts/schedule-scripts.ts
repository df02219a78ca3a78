// Typed wrappers of the schedule scripts (issue 17): schedule-put.lua, schedule-remove.lua, schedule-claim.lua.
// Each builds KEYS from keys.ts and KEYS and ARGV in the order its script's header states.

import type { RedisKeys } from '../keys.js'
import { LuaScript } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'

const SCHEDULE_SCRIPTS = {
  put: new LuaScript('schedule-put'),
  remove: new LuaScript('schedule-remove'),
  claim: new LuaScript('schedule-claim'),
} as const

/** schedule-put.lua: stores a schedule's definition (JSON) and next run. */
export async function runSchedulePut(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly id: string; readonly spec: string; readonly nextRunMs: number },
): Promise<void> {
  await SCHEDULE_SCRIPTS.put.run(client, [keys.schedule(args.id), keys.schedules], [args.id, args.spec, args.nextRunMs])
}

/** schedule-remove.lua: resolves to whether the schedule existed. */
export async function runScheduleRemove(client: RedisClient, keys: RedisKeys, id: string): Promise<boolean> {
  return (await SCHEDULE_SCRIPTS.remove.run(client, [keys.schedule(id), keys.schedules], [id])) === 1
}

export interface ScheduleClaimArgs {
  readonly id: string
  readonly expectedNextRunMs: number
  readonly nextRunMs: number
  /** The tick fired, or undefined when a late one is skipped. */
  readonly firedMs: number | undefined
}

/** schedule-claim.lua: resolves to whether this caller claimed the tick. */
export async function runScheduleClaim(
  client: RedisClient,
  keys: RedisKeys,
  args: ScheduleClaimArgs,
): Promise<boolean> {
  const reply = await SCHEDULE_SCRIPTS.claim.run(
    client,
    [keys.schedule(args.id), keys.schedules],
    [args.id, String(args.expectedNextRunMs), String(args.nextRunMs), args.firedMs === undefined ? '' : args.firedMs],
  )
  return reply === 1
}
