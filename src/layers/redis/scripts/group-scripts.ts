// Typed wrappers of the group scripts: group-add.lua, group-discard.lua, group-send.lua, groups-with-members.lua,
// leave-groups.lua and purge-groups.lua. Each builds KEYS from keys.ts and KEYS and ARGV in the order its script's
// header states.

import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'

export interface MembershipArgs {
  readonly group: string
  readonly channel: string
}

/** group-add.lua: adds (or refreshes) a membership and records the group in its owner's set. */
export async function runGroupAdd(
  client: RedisClient,
  keys: RedisKeys,
  args: MembershipArgs & { readonly nowMs: number; readonly groupExpiryMs: number },
): Promise<void> {
  await SCRIPTS.groupAdd.run(
    client,
    [keys.group(args.group), keys.ownerGroups(args.channel)],
    [args.channel, String(args.nowMs / 1000), args.groupExpiryMs, args.group],
  )
}

/**
 * group-discard.lua: removes a membership, and the group from the owner's set when `ownerLeaves` (the owner has
 * no other member there); resolves whether the channel was in the group.
 */
export async function runGroupDiscard(
  client: RedisClient,
  keys: RedisKeys,
  args: MembershipArgs & { readonly ownerLeaves: boolean },
): Promise<boolean> {
  const removed = await SCRIPTS.groupDiscard.run(
    client,
    [keys.group(args.group), keys.ownerGroups(args.channel)],
    [args.channel, args.group, args.ownerLeaves ? '1' : '0'],
  )
  return removed === 1
}

export interface GroupSendArgs {
  readonly group: string
  readonly nowMs: number
  readonly groupExpiryMs: number
  /** A process whose heartbeat is this old counts as dead. */
  readonly staleAfterMs: number
  /** The copy for live Switchyard processes, delivered by the script to their queue keys on the group's shard. */
  readonly compactPayload: Buffer
  readonly expiryMs: number
  readonly queueTtlMs: number
  readonly processQueueCapacity: number
}

export interface GroupSendPlan {
  /** Members reached and dropped (full queue) by the compact copies the script delivered. */
  readonly reached: number
  readonly dropped: number
  /** Everyone else's queues and their members, for channels_redis-format copies. */
  readonly others: readonly { readonly queue: string; readonly members: readonly string[] }[]
}

/** group-send.lua: prunes the group's expired memberships, delivers the compact copies, plans the rest. */
export async function runGroupSend(client: RedisClient, keys: RedisKeys, args: GroupSendArgs): Promise<GroupSendPlan> {
  const [reached, dropped, flatOthers] = (await SCRIPTS.groupSend.run(
    client,
    [keys.group(args.group), keys.registry],
    [
      keys.queuePrefix,
      String(args.nowMs / 1000),
      String(args.groupExpiryMs / 1000),
      args.nowMs,
      args.staleAfterMs,
      args.compactPayload,
      String(args.expiryMs / 1000),
      args.queueTtlMs,
      args.processQueueCapacity,
    ],
  )) as [number, number, (string | string[])[]]
  const others: { queue: string; members: string[] }[] = []
  for (let i = 0; i + 1 < flatOthers.length; i += 2) {
    others.push({ queue: String(flatOthers[i]), members: flatOthers[i + 1] as string[] })
  }
  return { reached, dropped, others }
}

/** groups-with-members.lua: for each group (all on the shard `client` serves), whether it has members. */
export async function runGroupsWithMembers(
  client: RedisClient,
  keys: RedisKeys,
  groups: readonly string[],
): Promise<boolean[]> {
  const flags = (await SCRIPTS.groupsWithMembers.run(
    client,
    groups.map((group) => keys.group(group)),
    [],
  )) as number[]
  return flags.map((flag) => flag === 1)
}

/**
 * leave-groups.lua: one SSCAN step of a channel leaving the groups it joined through Switchyard; resolves the
 * next cursor ('0' when done).
 */
export async function runLeaveGroups(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly channel: string; readonly cursor: string; readonly count: number },
): Promise<string> {
  const [next] = (await SCRIPTS.leaveGroups.run(
    client,
    [keys.ownerGroups(args.channel)],
    [args.channel, keys.groupPrefix, args.cursor, args.count],
  )) as [string, number]
  return next
}

export interface PurgeGroupsArgs {
  /** Group keys (found by SCAN). */
  readonly groups: readonly string[]
  /** Memberships last added at or before this are removed. */
  readonly cutoffMs: number
  readonly dryRun: boolean
  /** Most memberships this call may remove. */
  readonly budget: number
}

/**
 * purge-groups.lua: removes expired memberships; resolves how many (or would be, with `dryRun`) and how many
 * leading groups it finished.
 */
export async function runPurgeGroups(
  client: RedisClient,
  keys: RedisKeys,
  args: PurgeGroupsArgs,
): Promise<{ readonly removed: number; readonly finished: number }> {
  const [removed, finished] = (await SCRIPTS.purgeGroups.run(client, args.groups, [
    String(args.cutoffMs / 1000),
    args.dryRun ? '1' : '0',
    args.budget,
    keys.groupPrefix,
    keys.ownerGroupsPrefix,
  ])) as [number, number]
  return { removed, finished }
}
