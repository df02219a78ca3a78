// Typed wrappers of the scripts that queue messages: send.lua, deliver.lua (a group send's second step) and
// delayed.lua. Each builds KEYS from keys.ts and KEYS and ARGV in the order its script's header states.

import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'
import type { ScriptTarget } from '../replica-wait.js'

/** The tri-state of send.lua and delayed.lua: known to be a task channel, never one, or unknown (ask Redis). */
export type TaskChannelKnown = boolean | undefined

function taskChannelFlag(known: TaskChannelKnown): string {
  return known === undefined ? '' : known ? '1' : '0'
}

export interface SendArgs {
  readonly channel: string
  readonly payload: Buffer
  readonly nowMs: number
  readonly expiryMs: number
  readonly capacity: number
  /** The TTL of a queue whose channel is in groups. */
  readonly groupedQueueTtlMs: number
  readonly queueTtlMs: number
  /** The capacity of a registered Switchyard process's queue; undefined for a channel that cannot be one. */
  readonly processQueueCapacity: number | undefined
  readonly taskChannel: TaskChannelKnown
  /** The task id when the sender knows it (an idempotencyKey), else ''. */
  readonly taskId: string
  /** A flow step's tag: queue only if the task `taskId` is unknown (send.lua). */
  readonly flowTag?: string
}

export interface SendReply {
  readonly queued: boolean
  /** A flow step's send found its task known: nothing was queued, nothing needs to be. */
  readonly known: boolean
  /** Expired messages pruned from the queue. */
  readonly expired: number
  /** The capacity send.lua applied: `processQueueCapacity` for a live Switchyard process's queue, else `capacity`. */
  readonly capacity: number
}

/** send.lua: queues one message on a channel, checking capacity atomically. */
export async function runSend(client: ScriptTarget, keys: RedisKeys, args: SendArgs): Promise<SendReply> {
  const { channel } = args
  const [queued, expired, capacity] = (await SCRIPTS.send.run(
    client,
    [keys.queue(channel), keys.ownerGroups(channel), keys.registry, keys.taskChannel(channel), keys.wake(channel)],
    [
      args.payload,
      String(args.nowMs / 1000),
      String(args.expiryMs / 1000),
      args.capacity,
      args.groupedQueueTtlMs,
      args.queueTtlMs,
      keys.expiringMember(channel),
      keys.groupPrefix,
      args.processQueueCapacity ?? '',
      taskChannelFlag(args.taskChannel),
      keys.taskStatePrefix,
      channel,
      args.taskId,
      args.nowMs,
      args.flowTag ?? '',
    ],
  )) as [number, number, number]
  return { queued: queued === 1, known: queued === 2, expired, capacity }
}

/** One queue of a deliver.lua call. */
export interface DeliveryTarget {
  readonly queue: string
  readonly payload: Buffer
  readonly capacity: number
  /** The channel that leaves its groups if its messages expired; '' for a process queue. */
  readonly expiring: string
}

export interface DeliverArgs {
  readonly targets: readonly DeliveryTarget[]
  readonly nowMs: number
  readonly expiryMs: number
  readonly queueTtlMs: number
  /** The TTL of a queue whose channel is in groups. */
  readonly groupedQueueTtlMs: number
}

/** deliver.lua's status of a target: queued, full, or skipped because the channel's messages expired. */
export type DeliveryStatus = 1 | 0 | -1

/** deliver.lua: one payload per queue, each with its own capacity; one status per target, in order. */
export async function runDeliver(client: RedisClient, keys: RedisKeys, args: DeliverArgs): Promise<DeliveryStatus[]> {
  const argv: (string | number | Buffer)[] = [
    String(args.nowMs / 1000),
    String(args.expiryMs / 1000),
    args.queueTtlMs,
    args.groupedQueueTtlMs,
    keys.groupPrefix,
    keys.ownerGroupsPrefix,
  ]
  for (const target of args.targets) argv.push(target.payload, target.capacity, target.expiring)
  return (await SCRIPTS.deliver.run(
    client,
    args.targets.map((target) => target.queue),
    argv,
  )) as DeliveryStatus[]
}

export interface DelayedArgs {
  /** The channel's non-local name (a process's queue for `…!…` channels). */
  readonly queue: string
  readonly dueMs: number
  readonly payload: Buffer
  readonly capacity: number
  readonly taskChannel: TaskChannelKnown
  /** The task id when the sender knows it, else ''. */
  readonly taskId: string
  readonly nowMs: number
}

/** What a delayed.lua `move` did: how many messages it moved, and whether delayed messages still wait. */
export interface DelayedMoveReply {
  readonly moved: number
  /** When the earliest delayed message still waiting is due (ms since the epoch); Infinity when none wait. */
  readonly nextDueAt: number
}

/** delayed.lua `move`: moves due delayed messages onto their queues. */
export async function runDelayedMove(client: RedisClient, keys: RedisKeys, nowMs: number): Promise<DelayedMoveReply> {
  const [moved, earliest] = (await SCRIPTS.delayed.run(
    client,
    [keys.delayedIndex],
    ['move', nowMs, keys.queuePrefix, keys.delayedPrefix, keys.wakePrefix],
  )) as [number, string]
  return { moved, nextDueAt: earliest === '' ? Number.POSITIVE_INFINITY : Number(earliest) }
}

/** delayed.lua `add`: schedules one payload (resolves 1, or 0 when the channel's delayed messages are at capacity). */
export async function runDelayed(client: ScriptTarget, keys: RedisKeys, args: DelayedArgs): Promise<number> {
  const { queue } = args
  return (await SCRIPTS.delayed.run(
    client,
    [keys.delayedIndex, keys.delayed(queue), keys.taskChannel(queue)],
    [
      'add',
      args.dueMs,
      queue,
      args.payload,
      args.capacity,
      taskChannelFlag(args.taskChannel),
      keys.taskStatePrefix,
      args.taskId,
      args.nowMs,
    ],
  )) as number
}
