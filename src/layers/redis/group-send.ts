import type { Message } from '../channel-layer.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { nonLocalName } from '../names.js'
import type { GroupRoutes } from './group-routes.js'
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
  /** With several shards: the process queues each group's last send reached. */
  readonly routes: GroupRoutes
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
 * `groupSend` in one script per shard. On the group's shard, one script prunes expired memberships and, for
 * every live Switchyard process among the members, adds ONE compact copy of the message to that process's queue
 * (the process fans it out to its own members): round trips and bytes do not grow with the number of members a
 * process has. Everyone else (Django processes, normal channels) gets channels_redis' format, one copy per queue
 * naming its members in `__asgi_channel__`, delivered by a second script per shard only when there are such
 * members. With several shards, compact copies for queues on other shards are delivered the same way: to the
 * queues the group's plans named at once, beside the plan (group-routes.ts), and to any the plan adds when it
 * comes back.
 */
export async function sendToGroup(ctx: GroupSendContext, group: string, message: Message): Promise<GroupSendResult> {
  const now = Date.now()
  const compact = ctx.encode({ ...message, [GROUP_ROUTING_KEY]: group })
  const groupShard = shardAt(ctx.shards, ctx.shardOf(group))
  if (ctx.shards.length === 1) {
    const plan = await planOnGroupShard(ctx, groupShard, group, compact, now)
    const delivered = await deliverTargets(ctx, groupShard.keys, channelsRedisTargets(ctx, plan.others, message), now)
    return { reached: plan.reached + delivered.reached, dropped: plan.dropped + delivered.dropped }
  }
  return sendAcrossShards(ctx, groupShard, group, message, compact, now)
}

/** Several shards: the route's copies and the plan at once, then the copies the plan adds (group-routes.ts). */
async function sendAcrossShards(
  ctx: GroupSendContext,
  groupShard: RedisShard,
  group: string,
  message: Message,
  compact: Buffer,
  now: number,
): Promise<GroupSendResult> {
  const ticket = ctx.routes.begin(group)
  const { early } = ticket
  const copied = deliverEach(
    ctx,
    groupShard.keys,
    early.map((queue) => compactTarget(ctx, queue, compact, 0)),
    now,
  )
  const planned = planOnGroupShard(ctx, groupShard, group, undefined, now).then(
    (plan) => {
      // In the same step as the route's update: no later send can copy early to a queue this one copies late.
      ctx.routes.finish(
        group,
        ticket,
        plan.processQueues.map(({ queue }) => queue),
      )
      const added = plan.processQueues
        .filter(({ queue }) => !early.includes(queue))
        .map(({ queue, members }) => compactTarget(ctx, queue, compact, members))
      const late = deliverTargets(
        ctx,
        groupShard.keys,
        [...added, ...channelsRedisTargets(ctx, plan.others, message)],
        now,
      )
      // Awaited below unless the early copies failed first; the caller then gets that error, not an unhandled one.
      late.catch(() => undefined)
      return { plan, late }
    },
    (error: unknown) => {
      ctx.routes.finish(group, ticket, undefined)
      throw error
    },
  )
  const [statuses, { plan, late }] = await Promise.all([copied, planned])
  let { reached, dropped } = await late
  // The plan's member counts, for the queues copied to early (a queue it no longer names counts nothing).
  const members = new Map(plan.processQueues.map(({ queue, members }) => [queue, members]))
  early.forEach((queue, i) => {
    const behind = members.get(queue) ?? 0
    if (statuses[i] === 1) reached += behind
    else dropped += behind
  })
  return { reached, dropped }
}

function compactTarget(ctx: GroupSendContext, queue: string, payload: Buffer, members: number): Target {
  return { queue, payload, capacity: ctx.options.processQueueCapacity, expiring: '', members }
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
  const statuses = await deliverEach(ctx, plannedOn, targets, now)
  let reached = 0
  let dropped = 0
  targets.forEach((target, i) => {
    if (statuses[i] === 1) reached += target.members
    else if (statuses[i] === 0) dropped += target.members
  })
  return { reached, dropped }
}

/**
 * deliver.lua's status for each target, in order (1 queued, 0 full, -1 the channel had expired messages and left
 * its groups). One call per shard, all at once: each reaches other queues, so their order does not matter.
 */
async function deliverEach(
  ctx: GroupSendContext,
  plannedOn: RedisKeys,
  targets: readonly Target[],
  now: number,
): Promise<number[]> {
  const byShard = new Map<number, { routed: Target[]; at: number[] }>()
  targets.forEach((target, i) => {
    const name = plannedOn.queueName(target.queue)
    const index = ctx.shardOf(nonLocalName(name))
    const routed = { ...target, queue: shardAt(ctx.shards, index).keys.queue(name) }
    const batch = byShard.get(index)
    if (batch === undefined) byShard.set(index, { routed: [routed], at: [i] })
    else {
      batch.routed.push(routed)
      batch.at.push(i)
    }
  })
  const statuses = new Array<number>(targets.length).fill(0)
  await Promise.all(
    [...byShard].map(async ([shardIndex, { routed, at }]) => {
      const found = await deliverOnShard(ctx, shardIndex, routed, now)
      found.forEach((status, j) => {
        statuses[at[j] ?? 0] = status
      })
    }),
  )
  return statuses
}

/**
 * On the group's shard: prunes expired memberships, and delivers `compact` to the process queues (all on that
 * shard when there is one) or, without it, names them.
 */
async function planOnGroupShard(
  ctx: GroupSendContext,
  shard: RedisShard,
  group: string,
  compact: Buffer | undefined,
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

/** One deliver.lua call on a shard; its status for each target. */
async function deliverOnShard(
  ctx: GroupSendContext,
  shardIndex: number,
  targets: readonly Target[],
  now: number,
): Promise<number[]> {
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
  // -1: the channel's messages expired, so deliver.lua removed it from the groups on its queue's shard (Channels'
  // spec); groups elsewhere follow.
  if (ctx.shards.length > 1) {
    for (const [i, status] of statuses.entries()) {
      const channel = targets[i]?.expiring ?? ''
      if (status === -1 && channel !== '') await ctx.leaveGroups(channel)
    }
  }
  return statuses
}
