// Typed wrappers of the scripts that sweep dead processes out of their groups: sweep.lua and sweep-process.lua.
// Each builds KEYS from keys.ts and KEYS and ARGV in the order its script's header states.

import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'

export interface SweepArgs {
  /** Where to go on reading the registry ('0' to start). */
  readonly cursor: string
  readonly nowMs: number
  readonly staleAfterMs: number
  /** HSCAN COUNT for both hashes. */
  readonly scanCount: number
  /** The caller's own process queue key: never claimed, and the lease holder. */
  readonly ownQueue: string
  readonly leaseMs: number
}

export interface SweepReply {
  readonly cursor: string
  readonly claimed: number
  /** Process queues the caller may sweep now. */
  readonly pending: readonly string[]
}

/** sweep.lua: one HSCAN step of the registry, claiming processes whose heartbeat stopped. */
export async function runSweep(client: RedisClient, keys: RedisKeys, args: SweepArgs): Promise<SweepReply> {
  const [cursor, claimed, pending] = (await SCRIPTS.sweep.run(
    client,
    [keys.registry, keys.sweeping],
    [args.cursor, args.nowMs, args.staleAfterMs, args.scanCount, args.ownQueue, args.leaseMs],
  )) as [string, number, string[]]
  return { cursor, claimed, pending }
}

/** Where a sweep of one process stands: sweep-process.lua's cursors, and what its last step did. */
export interface SweepStep {
  readonly removed: number
  readonly state: 'more' | 'done' | 'busy'
  readonly setCursor: string
  /** A group too large for one step, being walked ('' if none). */
  readonly group: string
  readonly groupCursor: string
}

export interface SweepProcessArgs {
  /** The dead process's queue key, as sweep.lua found it in the registry. */
  readonly queue: string
  readonly nowMs: number
  readonly leaseMs: number
  /** The caller's own process queue key (the lease holder). */
  readonly ownQueue: string
  /** Set entries and group members this step may visit. */
  readonly budget: number
  readonly from: Pick<SweepStep, 'setCursor' | 'group' | 'groupCursor'>
}

/** sweep-process.lua: one bounded step of sweeping a dead process out of its groups. */
export async function runSweepProcess(
  client: RedisClient,
  keys: RedisKeys,
  args: SweepProcessArgs,
): Promise<SweepStep> {
  const { queue, from } = args
  const nonLocal = keys.queueName(queue)
  const [removed, state, setCursor, group, groupCursor] = (await SCRIPTS.sweepProcess.run(
    client,
    [keys.registry, keys.sweeping, keys.ownerGroups(nonLocal), queue],
    [
      args.nowMs,
      args.leaseMs,
      args.ownQueue,
      keys.groupPrefix,
      nonLocal,
      args.budget,
      from.setCursor,
      from.group,
      from.groupCursor,
    ],
  )) as [number, SweepStep['state'], string, string, string]
  return { removed, state, setCursor, group, groupCursor }
}
