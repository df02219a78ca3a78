import type { Logger } from '../../logger.js'
import type { RedisKeys } from './keys.js'
import type { LocalGroups } from './local-groups.js'
import { SCRIPTS } from './lua-script.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import { consistentHash } from './shard.js'

/** Most dead processes one sweep removes: bounds the script's run time. */
const SWEEP_BATCH = 10

export interface PresenceContext {
  readonly shards: readonly RedisShard[]
  readonly keys: RedisKeys
  readonly options: ResolvedRedisOptions
  readonly log: Logger
  readonly localGroups: LocalGroups
  readonly clientId: string
  /** This process's non-local names (`specific.<id>!`), one per `newChannel` prefix used. */
  ownNonLocal(): Iterable<string>
  shardForGroup(group: string): RedisShard
  isClosed(): boolean
  onSwept(count: number): void
}

/**
 * This process's liveness in Redis: a heartbeat in the registry of live Switchyard processes (which lets group
 * sends give it one compact copy), a sweep that removes dead processes from their groups, and a clean
 * departure on close.
 */
export class ProcessPresence {
  /** Shards this process has registered on at least once. */
  private readonly registered = new Set<number>()

  constructor(private readonly ctx: PresenceContext) {}

  /** Proves this process alive on every shard, then sweeps processes that stopped doing so. */
  async heartbeat(): Promise<void> {
    const { ctx } = this
    if (ctx.isClosed()) return
    const now = Date.now()
    ctx.localGroups.purge(ctx.options.groupExpiryMs, now)
    const beats = [...ctx.ownNonLocal()].flatMap((nonLocal) => [ctx.options.prefix + nonLocal, String(now)])
    const own = `${ctx.options.prefix}specific.${ctx.clientId}!`
    for (const [index, shard] of ctx.shards.entries()) {
      try {
        const added = await shard.call((client) => client.hset(ctx.keys.registry, ...beats), { idempotent: true })
        // A registration that vanished while we were alive means we were swept (a long stall) or Redis lost its
        // data: our memberships are gone too, so add them back.
        if (added > 0 && this.registered.has(index)) await this.readdMemberships(index)
        this.registered.add(index)
        const [swept] = (await shard.call((client) =>
          SCRIPTS.sweep.run(
            client,
            [ctx.keys.registry],
            [now, ctx.options.staleAfterMs, ctx.options.prefix, SWEEP_BATCH, own],
          ),
        )) as [number, number]
        if (swept > 0) {
          ctx.onSwept(swept)
          ctx.log.info({ host: shard.label, swept }, 'removed dead processes from their groups')
        }
      } catch (err) {
        ctx.log.debug({ err, host: shard.label }, 'heartbeat failed')
      }
    }
  }

  /** Adds (or refreshes) a membership, recording the group in the channel owner's set for later cleanup. */
  async addMembership(group: string, channel: string): Promise<void> {
    const { keys, options } = this.ctx
    await this.ctx
      .shardForGroup(group)
      .call(
        (client) =>
          SCRIPTS.groupAdd.run(
            client,
            [keys.group(group), keys.ownerGroups(channel)],
            [channel, String(Date.now() / 1000), options.groupExpiryMs, group],
          ),
        { idempotent: true },
      )
  }

  /** Re-adds this process's memberships whose group lives on shard `index` (after Redis may have lost them). */
  async readdMemberships(index: number): Promise<void> {
    for (const [group, channel] of this.ctx.localGroups.entries()) {
      if (consistentHash(group, this.ctx.shards.length) !== index) continue
      try {
        await this.addMembership(group, channel)
      } catch (err) {
        this.ctx.log.warn({ err, group }, 'could not re-add a group membership after reconnecting')
      }
    }
  }

  /** A plain channel's message expired unread: it leaves its groups on every shard (Channels' spec). */
  async leaveGroups(channel: string): Promise<void> {
    const { keys } = this.ctx
    try {
      for (const shard of this.ctx.shards) {
        await shard.call(
          (client) => SCRIPTS.leaveGroups.run(client, [keys.ownerGroups(channel)], [channel, keys.groupPrefix]),
          { idempotent: true },
        )
      }
    } catch (err) {
      this.ctx.log.warn({ err, channel }, 'could not remove an expired channel from its groups')
    }
  }

  /** On close: leave every group and drop out of the registry, so nobody waits for a sweep. */
  async deregister(): Promise<void> {
    const { ctx } = this
    const queues = [...ctx.ownNonLocal()].map((nonLocal) => ctx.options.prefix + nonLocal)
    const memberships = [...ctx.localGroups.entries()]
    await Promise.allSettled(
      ctx.shards.map(async (shard, index) => {
        if (shard.commands.status !== 'ready') return
        const pipeline = shard.commands.pipeline()
        for (const [group, channel] of memberships) {
          if (consistentHash(group, ctx.shards.length) === index) pipeline.zrem(ctx.keys.group(group), channel)
        }
        pipeline.hdel(ctx.keys.registry, ...queues)
        await pipeline.exec()
      }),
    )
  }
}
