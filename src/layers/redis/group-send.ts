import type { Message } from '../channel-layer.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { nonLocalName } from '../names.js'
import { GROUP_ROUTING_KEY } from './inbound.js'
import type { RedisKeys } from './keys.js'
import { SCRIPTS, type ScriptArgument } from './lua-script.js'
import { queueTtlMs, type ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import { shardAt } from './shard-at.js'

export interface GroupSendContext {
  readonly shards: readonly RedisShard[]
  readonly keys: RedisKeys
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

interface Delivery {
  readonly keys: string[]
  readonly args: ScriptArgument[]
  /** Members behind each key, for counting. */
  readonly members: number[]
  /** The normal channel behind each key ('' for process queues), which leaves its groups if it expired. */
  readonly expiring: string[]
}

/**
 * `groupSend` in one script per shard. On the group's shard, one script prunes expired memberships and, for
 * every live Switchyard process among the members, adds ONE compact copy of the message to that process's queue
 * (the process fans it out to its own members): round trips and bytes do not grow with the number of members a
 * process has. Everyone else (Django processes, normal channels) gets channels_redis' format, one copy per queue
 * naming its members in `__asgi_channel__`, delivered by a second script per shard only when there are such
 * members. With several shards, compact copies for queues on other shards go out the same way.
 */
export async function sendToGroup(ctx: GroupSendContext, group: string, message: Message): Promise<GroupSendResult> {
  const { keys, options } = ctx
  const now = Date.now()
  const nowS = String(now / 1000)
  const single = ctx.shards.length === 1
  const compact = ctx.encode({ ...message, [GROUP_ROUTING_KEY]: group })
  const groupShard = shardAt(ctx.shards, ctx.shardOf(group))
  const planned = (await groupShard.call((client) =>
    SCRIPTS.groupSend.run(
      client,
      [keys.group(group), keys.registry],
      [
        keys.prefix,
        nowS,
        String(options.groupExpiryMs / 1000),
        now,
        options.staleAfterMs,
        single ? compact : '',
        String(options.expiryMs / 1000),
        queueTtlMs(options.expiryMs),
        options.processQueueCapacity,
      ],
    ),
  )) as [number, number, (string | number)[], (string | string[])[]]
  let [reached, dropped] = planned
  const [, , nodeQueues, others] = planned
  const deliveries = new Map<number, Delivery>()
  const add = (key: string, payload: Buffer, capacity: number, expiring: string, members: number): void => {
    const shard = ctx.shardOf(nonLocalName(key.slice(keys.prefix.length)))
    let delivery = deliveries.get(shard)
    if (delivery === undefined) {
      delivery = {
        keys: [],
        args: [
          nowS,
          String(options.expiryMs / 1000),
          options.expiryMs,
          options.groupExpiryMs,
          keys.groupPrefix,
          keys.ownerGroupsPrefix,
        ],
        members: [],
        expiring: [],
      }
      deliveries.set(shard, delivery)
    }
    delivery.keys.push(key)
    delivery.args.push(payload, capacity, expiring)
    delivery.members.push(members)
    delivery.expiring.push(expiring)
  }
  for (let i = 0; i + 1 < nodeQueues.length; i += 2) {
    add(String(nodeQueues[i]), compact, options.processQueueCapacity, '', Number(nodeQueues[i + 1]))
  }
  for (let i = 0; i + 1 < others.length; i += 2) {
    const key = String(others[i])
    const members = others[i + 1] as string[]
    const first = members[0] ?? ''
    // channels_redis' group format: `__asgi_channel__` is always a list, even for one normal channel.
    const payload = ctx.encode({ ...message, [RESERVED_ROUTING_KEY]: members })
    add(key, payload, ctx.capacityOf(first), first.includes('!') ? '' : first, members.length)
  }
  for (const [shardIndex, delivery] of deliveries) {
    const statuses = (await shardAt(ctx.shards, shardIndex).call((client) =>
      SCRIPTS.deliver.run(client, delivery.keys, delivery.args),
    )) as number[]
    const left: string[] = []
    statuses.forEach((status, i) => {
      const members = delivery.members[i] ?? 0
      if (status === 1) reached += members
      else if (status === 0) dropped += members
      else if (status === -1 && ctx.shards.length > 1) left.push(delivery.expiring[i] ?? '')
    })
    // deliver.lua removed each expired channel from the groups on its queue's shard; groups elsewhere follow.
    for (const channel of left) if (channel !== '') await ctx.leaveGroups(channel)
  }
  return { reached, dropped }
}
