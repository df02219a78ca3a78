import type { Logger } from '../../logger.js'
import type { Message } from '../channel-layer.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { isProcessSpecific, nonLocalName } from '../names.js'
import { queueTtlMs, type ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import { callReplicated } from './replica-wait.js'
import { runDelayed, runDelayedMove, runSend, type SendReply } from './scripts/message-scripts.js'

export interface SendContext {
  readonly options: ResolvedRedisOptions
  readonly shards: readonly RedisShard[]
  readonly log: Logger
  shardFor(channel: string): RedisShard
  encode(message: Readonly<Record<string, unknown>>): Buffer
}

/** What the sender knows of a channel: its capacity, and whether this process knows it carries tasks. */
export interface SendTarget {
  readonly capacity: number
  readonly task: boolean
  /** A flow step's tag (flow-spec.ts `stepTag`): sent only if its task (the message's idempotencyKey) is unknown. */
  readonly flowTag?: string
}

/**
 * A send now: one send.lua call on the channel's shard, which checks capacity atomically. channels_redis marks a
 * process-specific target inside the message so the process can demultiplex. Resolves whether it was queued, how
 * many expired messages the queue dropped, and the capacity applied (`processQueueCapacity` when the target is a
 * live Switchyard process's queue).
 */
export async function sendNow(
  ctx: SendContext,
  channel: string,
  message: Message,
  { capacity, task, flowTag }: SendTarget,
): Promise<SendReply> {
  const { options } = ctx
  const specific = isProcessSpecific(channel)
  const payload = ctx.encode(specific ? { ...message, [RESERVED_ROUTING_KEY]: channel } : message)
  const now = Date.now()
  const key = message.idempotencyKey
  const shard = ctx.shardFor(channel)
  // A process channel's messages live as long as its process: they are never waited for.
  return callReplicated(shard, specific ? undefined : options.waitForReplicas, (client) =>
    runSend(client, shard.keys, {
      channel,
      payload,
      nowMs: now,
      expiryMs: options.expiryMs,
      capacity,
      groupedQueueTtlMs: options.groupExpiryMs,
      queueTtlMs: queueTtlMs(options.expiryMs),
      processQueueCapacity: specific ? options.processQueueCapacity : undefined,
      taskChannel: specific ? false : task ? true : undefined,
      taskId: typeof key === 'string' ? key : '',
      ...(flowTag === undefined ? {} : { flowTag }),
    }),
  )
}

/**
 * A delayed send: the message waits in a per-channel sorted set by due time and is moved onto the channel (with
 * a fresh send time, so it does not expire early) by whichever live process runs the mover first. It is accepted
 * or refused now: at most `capacity` messages wait per channel (resolves false past that); once due it joins the
 * queue whatever its length, never dropped. A task channel's task reads `queued` from now.
 */
export async function sendLater(
  ctx: SendContext,
  channel: string,
  message: Message,
  delayMs: number,
  { capacity, task }: SendTarget,
): Promise<boolean> {
  const specific = isProcessSpecific(channel)
  const payload = ctx.encode(specific ? { ...message, [RESERVED_ROUTING_KEY]: channel } : message)
  const queue = nonLocalName(channel)
  const now = Date.now()
  const key = message.idempotencyKey
  const shard = ctx.shardFor(channel)
  const added = await callReplicated(shard, specific ? undefined : ctx.options.waitForReplicas, (client) =>
    runDelayed(client, shard.keys, {
      queue,
      dueMs: now + delayMs,
      payload,
      capacity,
      taskChannel: specific ? false : task ? true : undefined,
      taskId: typeof key === 'string' ? key : '',
      nowMs: now,
    }),
  )
  return added === 1
}

/**
 * Moves due delayed messages onto their channels, on every shard (each layer runs it, see `DelayedMover`). Resolves
 * when the earliest delayed message still waiting on any shard is due (Infinity when none wait); a shard that could
 * not say counts as due `retryMs` from now.
 */
export async function moveDueDelayed(ctx: SendContext, retryMs: number): Promise<number> {
  let nextDueAt = Number.POSITIVE_INFINITY
  for (const shard of ctx.shards) {
    try {
      const reply = await shard.call((client) => runDelayedMove(client, shard.keys, Date.now()))
      nextDueAt = Math.min(nextDueAt, reply.nextDueAt)
    } catch (err) {
      nextDueAt = Math.min(nextDueAt, Date.now() + retryMs)
      ctx.log.debug({ err, host: shard.label }, 'moving due delayed messages failed')
    }
  }
  return nextDueAt
}
