import type { Message } from '../channel-layer.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { nonLocalName } from '../names.js'
import { GROUP_ROUTING_KEY } from './inbound.js'
import type { RedisKeys } from './keys.js'
import { queueTtlMs, type ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import { runDeliver, type DeliveryTarget } from './scripts/message-scripts.js'
import { runGroupSend, type GroupSendPlan } from './scripts/group-scripts.js'
import { shardAt } from './shard-at.js'

export interface GroupSendContext {
  readonly shards: readonly RedisShard[]
  readonly options: ResolvedRedisOptions
  encode(message: Readonly<Record<string, unknown>>): Buffer
  shardOf(name: string): number
  capacityOf(channel: string): number
  /** Removes a normal channel from its groups on every shard (a script can only clean its own shard). */
  leaveGroups(channel: string): Promise<void>
}

export interface GroupSendResult {
  /** Members reached. */
  readonly reached: number
  /** Members skipped because their queue was full. */
  readonly dropped: number
}

/** A queue a group send reaches through deliver.lua, and how many members are behind it (for counting). */
export interface Target extends DeliveryTarget {
  readonly members: number
}

/**
 * `groupSend` in one script on the group's shard: it prunes expired memberships and, for every live Switchyard
 * process among the members, adds ONE compact copy of the message to that process's queue key on this shard (the
 * process fans it out to its own members): round trips and bytes do not grow with the number of members a process
 * has, nor with the number of shards. A process reads its queue key on every shard (as history-send.lua relies on),
 * so with `hosts` or a cluster too a group send is one command, and one sender's messages to a group reach each
 * process in order. Everyone else (Django processes, normal channels) gets channels_redis' format, one copy per
 * queue naming its members in `__asgi_channel__`, delivered by a second script per shard only when there are such
 * members.
 */
export async function sendToGroup(ctx: GroupSendContext, group: string, message: Message): Promise<GroupSendResult> {
  const now = Date.now()
  const compact = ctx.encode({ ...message, [GROUP_ROUTING_KEY]: group })
  const groupShard = shardAt(ctx.shards, ctx.shardOf(group))
  const plan = await planOnGroupShard(ctx, groupShard, group, compact, now)
  const delivered = await deliverTargets(ctx, groupShard.keys, channelsRedisTargets(ctx, plan.others, message), now)
  return { reached: plan.reached + delivered.reached, dropped: plan.dropped + delivered.dropped }
}

/**
 * Delivers each target's payload to its queue: one deliver.lua call per shard with targets. Target queues are keys
 * of the shard that planned them (`plannedOn`); each is delivered as the same queue's key on its own shard (the
 * same key with `hosts`, another hash tag on a cluster).
 */
export async function deliverTargets(
  ctx: GroupSendContext,
  plannedOn: RedisKeys,
  targets: readonly Target[],
  now: number,
): Promise<GroupSendResult> {
  const byShard = new Map<number, Target[]>()
  for (const target of targets) {
    const name = plannedOn.queueName(target.queue)
    const index = ctx.shardOf(nonLocalName(name))
    const routed = { ...target, queue: shardAt(ctx.shards, index).keys.queue(name) }
    const list = byShard.get(index)
    if (list === undefined) byShard.set(index, [routed])
    else list.push(routed)
  }
  // One call per shard, all at once: each reaches other queues, so their order does not matter, and this step is
  // one round trip however many shards the queues are on.
  const results = await Promise.all(
    [...byShard].map(([shardIndex, list]) => deliverOnShard(ctx, shardIndex, list, now)),
  )
  return results.reduce(
    (sum, delivered) => ({
      reached: sum.reached + delivered.reached,
      dropped: sum.dropped + delivered.dropped,
    }),
    { reached: 0, dropped: 0 },
  )
}

/** On the group's shard: prunes expired memberships and delivers the compact copies. */
async function planOnGroupShard(
  ctx: GroupSendContext,
  shard: RedisShard,
  group: string,
  compact: Buffer,
  now: number,
): Promise<GroupSendPlan> {
  const { options } = ctx
  return shard.call((client) =>
    runGroupSend(client, shard.keys, {
      group,
      nowMs: now,
      groupExpiryMs: options.groupExpiryMs,
      staleAfterMs: options.staleAfterMs,
      compactPayload: compact,
      expiryMs: options.expiryMs,
      queueTtlMs: queueTtlMs(options.expiryMs),
      processQueueCapacity: options.processQueueCapacity,
    }),
  )
}

/**
 * channels_redis' group format, one copy per queue: `__asgi_channel__` lists the queue's members (always a list,
 * even for one normal channel); a normal channel's copy carries its name, to leave its groups if it expired.
 */
export function channelsRedisTargets(
  ctx: GroupSendContext,
  others: GroupSendPlan['others'],
  message: Message,
): Target[] {
  return others.map(({ queue, members }) => {
    const first = members[0] ?? ''
    const payload = ctx.encode({ ...message, [RESERVED_ROUTING_KEY]: members })
    const expiring = first.includes('!') ? '' : first
    return { queue, payload, capacity: ctx.capacityOf(first), expiring, members: members.length }
  })
}

/** One deliver.lua call on a shard; counts the members reached and dropped. */
async function deliverOnShard(
  ctx: GroupSendContext,
  shardIndex: number,
  targets: readonly Target[],
  now: number,
): Promise<GroupSendResult> {
  const { options } = ctx
  const shard = shardAt(ctx.shards, shardIndex)
  const statuses = await shard.call((client) =>
    runDeliver(client, shard.keys, {
      targets,
      nowMs: now,
      expiryMs: options.expiryMs,
      queueTtlMs: queueTtlMs(options.expiryMs),
      groupedQueueTtlMs: options.groupExpiryMs,
    }),
  )
  let reached = 0
  let dropped = 0
  const left: string[] = []
  statuses.forEach((status, i) => {
    const members = targets[i]?.members ?? 0
    if (status === 1) reached += members
    else if (status === 0) dropped += members
    // -1: the channel's messages expired, so it left its groups (Channels' spec).
    else if (ctx.shards.length > 1) left.push(targets[i]?.expiring ?? '')
  })
  // deliver.lua removed each expired channel from the groups on its queue's shard; groups elsewhere follow.
  for (const channel of left) if (channel !== '') await ctx.leaveGroups(channel)
  return { reached, dropped }
}
