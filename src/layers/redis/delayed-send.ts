import type { Logger } from '../../logger.js'
import type { Message } from '../channel-layer.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { isProcessSpecific, nonLocalName } from '../names.js'
import type { RedisKeys } from './keys.js'
import { SCRIPTS } from './lua-script.js'
import type { RedisShard } from './redis-shard.js'

export interface DelayedContext {
  readonly keys: RedisKeys
  readonly prefix: string
  readonly shards: readonly RedisShard[]
  readonly log: Logger
  shardFor(channel: string): RedisShard
  encode(message: Readonly<Record<string, unknown>>): Buffer
}

/**
 * A delayed send: the message waits in a per-channel sorted set by due time and is moved onto the channel (with
 * a fresh send time, so it does not expire early) by whichever live process runs the mover first. Capacity is
 * checked neither now nor when it moves: a delayed message is never dropped for it.
 */
export async function sendLater(
  ctx: DelayedContext,
  channel: string,
  message: Message,
  delayMs: number,
): Promise<void> {
  const payload = ctx.encode(isProcessSpecific(channel) ? { ...message, [RESERVED_ROUTING_KEY]: channel } : message)
  const queue = nonLocalName(channel)
  await ctx
    .shardFor(channel)
    .call((client) =>
      SCRIPTS.delayed.run(
        client,
        [ctx.keys.delayedIndex, ctx.keys.delayed(queue)],
        ['add', Date.now() + delayMs, queue, payload],
      ),
    )
}

/** Moves due delayed messages onto their channels, on every shard (run a few times a second by each layer). */
export async function moveDueDelayed(ctx: DelayedContext): Promise<void> {
  for (const shard of ctx.shards) {
    try {
      await shard.call((client) =>
        SCRIPTS.delayed.run(client, [ctx.keys.delayedIndex], ['move', Date.now(), ctx.prefix]),
      )
    } catch (err) {
      ctx.log.debug({ err, host: shard.label }, 'moving due delayed messages failed')
    }
  }
}
