import type { Logger } from '../../logger.js'
import { isProcessSpecific, nonLocalName } from '../names.js'
import type { LocalGroups } from './local-groups.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import { runGroupAdd, runGroupDiscard, runLeaveGroups } from './scripts/group-scripts.js'
import { runSweep, runSweepProcess, type SweepStep } from './scripts/presence-scripts.js'
import { consistentHash } from './shard.js'
import { shardAt } from './shard-at.js'
import type { RedisClient } from './redis-shard.js'

/**
 * Registry entries one sweep.lua call looks at (HSCAN COUNT): a registry of up to this many processes is read in
 * one call, as HGETALL did, and a larger one over several heartbeats instead of in one long call.
 */
const REGISTRY_SCAN_COUNT = 500
/**
 * Owner-groups entries and group members one sweep-process.lua call may visit: on a busy two-core machine a call
 * then averages under 1 ms, and a million entries take about 4 000 calls (5 s), far from the 10 ms one call may
 * block Redis (issue 14; a single call over the whole set took 1.4 to 3.5 s).
 */
const SWEEP_BUDGET = 250
/** Owner-groups entries one leave-groups.lua call reads (SSCAN COUNT): two commands each. */
const LEAVE_GROUPS_COUNT = 500

export interface PresenceContext {
  readonly shards: readonly RedisShard[]
  readonly options: ResolvedRedisOptions
  readonly log: Logger
  readonly localGroups: LocalGroups
  readonly clientId: string
  /** This process's non-local names (`specific.<id>!`), one per `newChannel` prefix used. */
  ownNonLocal(): Iterable<string>
  shardForGroup(group: string): RedisShard
  /** The name a group's memberships are kept under in Redis (its own, or `<group>:members` for history). */
  memberSetName(group: string): string
  /** Re-adds a membership after Redis may have lost it (a history group's through its own script). */
  rejoin(group: string, channel: string): Promise<void>
  /** The same state as `closing.aborted`, as a call: read again after an await, where a property read is narrowed. */
  isClosed(): boolean
  /** Aborted when the layer closes: a heartbeat or sweep retrying against an unreachable Redis then gives up. */
  readonly closing: AbortSignal
  onSwept(count: number): void
  /** After a dead process (its queue key) left its groups on `shard`: its group presence goes too (issue 16). */
  onProcessSwept(shard: RedisShard, queue: string): Promise<void>
}

/**
 * This process's liveness in Redis: a heartbeat in the registry of live Switchyard processes (which lets group
 * sends give it one compact copy), a sweep that removes dead processes from their groups, and a clean
 * departure on close. It also keeps its owner-groups sets (the groups to clean if it dies) to the groups its
 * channels are still in: a group leaves a set with the owner's last member there (issue 14).
 */
export class ProcessPresence {
  /** Shards this process has registered on at least once. */
  private readonly registered = new Set<number>()
  /** Per shard: where the next sweep.lua call goes on reading the registry. */
  private readonly registryCursors = new Map<number, string>()
  /** Per shard: the sweep under way (one at a time, run beside the heartbeat, which must not wait for it). */
  private readonly sweeps = new Map<number, Promise<void>>()
  /** Heartbeats under way: `deregister` waits for them, so none writes this process back after it left. */
  private readonly beats = new Set<Promise<void>>()
  /**
   * `<non-local name><group>` for each owner-groups entry made for this process's own channels (a group name has
   * no `!`): the heartbeat removes those whose last membership expired, which no discard announces.
   */
  private readonly ownEntries = new Set<string>()

  constructor(private readonly ctx: PresenceContext) {}

  /** Proves this process alive on every shard, and sweeps processes that stopped doing so (beside, not in, it). */
  heartbeat(): Promise<void> {
    const beat = this.beat()
    this.beats.add(beat)
    return beat.finally(() => this.beats.delete(beat))
  }

  private async beat(): Promise<void> {
    const { ctx } = this
    if (ctx.isClosed()) return
    const now = Date.now()
    ctx.localGroups.purge(ctx.options.groupExpiryMs, now)
    this.forgetExpiredEntries(now)
    const own = [...ctx.ownNonLocal()]
    for (const [index, shard] of ctx.shards.entries()) {
      // Shard after shard: a close may come between two of them, and the shards after it must not see us again.
      if (ctx.isClosed()) return
      const beats = own.flatMap((nonLocal) => [shard.keys.queue(nonLocal), String(now)])
      try {
        // Given up at close: `deregister` waits for this heartbeat, and must not wait out a retry window for it.
        const added = await shard.call((client) => client.hset(shard.keys.registry, ...beats), {
          idempotent: true,
          signal: ctx.closing,
        })
        // A registration that vanished while we were alive means we were swept (a long stall) or Redis lost its
        // data: our memberships are gone too, so add them back.
        if (added > 0 && this.registered.has(index)) await this.readdMemberships(index)
        this.registered.add(index)
      } catch (err) {
        ctx.log.debug({ err, host: shard.label }, 'heartbeat failed')
        continue
      }
      if (!this.sweeps.has(index)) {
        const sweep = this.sweep(index, shard).finally(() => this.sweeps.delete(index))
        this.sweeps.set(index, sweep)
      }
    }
  }

  /**
   * Adds (or refreshes) a membership, recording the group in the channel owner's set for later cleanup: with
   * group-add.lua, or `join` (a script doing the same and more, history-join.lua) whose reply it resolves to.
   */
  async addMembership(group: string, channel: string): Promise<void>
  async addMembership<T>(group: string, channel: string, join: (client: RedisClient) => Promise<T>): Promise<T>
  async addMembership<T>(
    group: string,
    channel: string,
    join?: (client: RedisClient) => Promise<T>,
  ): Promise<T | void> {
    const { options } = this.ctx
    if (this.isOwn(channel)) this.ownEntries.add(nonLocalName(channel) + group)
    const shard = this.ctx.shardForGroup(group)
    if (join !== undefined) return shard.call(join, { idempotent: true })
    await shard.call(
      (client) =>
        runGroupAdd(client, shard.keys, { group, channel, nowMs: Date.now(), groupExpiryMs: options.groupExpiryMs }),
      { idempotent: true },
    )
  }

  /**
   * Removes a membership (after LocalGroups forgot it), and the group from the owner's set when that was the
   * owner's last member there: a plain channel is its owner's only member, and this process knows its own
   * channels. For another process's channel that is not known here, so its entry stays until that process's
   * sweep or the set's expiry.
   */
  async removeMembership(group: string, channel: string): Promise<void> {
    const { options, localGroups } = this.ctx
    const nonLocal = nonLocalName(channel)
    let ownerLeaves = !isProcessSpecific(channel)
    if (this.isOwn(channel) && localGroups.membersBehind(nonLocal, group, options.groupExpiryMs).length === 0) {
      ownerLeaves = true
      this.ownEntries.delete(nonLocal + group)
    }
    const name = this.ctx.memberSetName(group)
    const shard = this.ctx.shardForGroup(group)
    await shard.call((client) => runGroupDiscard(client, shard.keys, { group: name, channel, ownerLeaves }), {
      idempotent: true,
    })
  }

  /** Re-adds this process's memberships whose group lives on shard `index` (after Redis may have lost them). */
  async readdMemberships(index: number): Promise<void> {
    for (const [group, channel] of this.ctx.localGroups.entries()) {
      if (consistentHash(group, this.ctx.shards.length) !== index) continue
      try {
        await this.ctx.rejoin(group, channel)
      } catch (err) {
        this.ctx.log.warn({ err, group }, 'could not re-add a group membership after reconnecting')
      }
    }
  }

  /** A plain channel's message expired unread: it leaves its groups on every shard (Channels' spec). */
  async leaveGroups(channel: string): Promise<void> {
    try {
      for (const shard of this.ctx.shards) {
        let cursor = '0'
        do {
          const from = cursor
          cursor = await shard.call(
            (client) => runLeaveGroups(client, shard.keys, { channel, cursor: from, count: LEAVE_GROUPS_COUNT }),
            { idempotent: true },
          )
        } while (cursor !== '0')
      }
    } catch (err) {
      this.ctx.log.warn({ err, channel }, 'could not remove an expired channel from its groups')
    }
  }

  /** On close: leave every group and drop out of the registry, so nobody waits for a sweep. */
  async deregister(): Promise<void> {
    const { ctx } = this
    // A sweep stops after its current step once the layer is closed; let it, before the connections go. A heartbeat
    // still writing would put this process back in the registry after the HDEL below.
    await Promise.allSettled([...this.sweeps.values(), ...this.beats])
    const ownNonLocal = [...ctx.ownNonLocal()]
    const memberships = [...ctx.localGroups.entries()]
    this.ownEntries.clear()
    await Promise.allSettled(
      ctx.shards.map(async (shard, index) => {
        if (!shard.reachable) return
        const { keys } = shard
        const pipeline = shard.commands.pipeline()
        for (const [group, channel] of memberships) {
          if (consistentHash(group, ctx.shards.length) !== index) continue
          pipeline.zrem(keys.group(ctx.memberSetName(group)), channel)
        }
        pipeline.hdel(keys.registry, ...ownNonLocal.map((nonLocal) => keys.queue(nonLocal)))
        // UNLINK: the sets go in the background, however many groups they still name.
        pipeline.unlink(...ownNonLocal.map((nonLocal) => keys.ownerGroups(nonLocal)))
        await pipeline.exec()
      }),
    )
  }

  private isOwn(channel: string): boolean {
    if (!isProcessSpecific(channel)) return false
    const nonLocal = nonLocalName(channel)
    for (const own of this.ctx.ownNonLocal()) if (own === nonLocal) return true
    return false
  }

  /** Removes the owner-groups entries whose memberships LocalGroups just forgot as expired. */
  private forgetExpiredEntries(now: number): void {
    const { ctx } = this
    const gone = new Map<number, [nonLocal: string, group: string][]>()
    for (const entry of this.ownEntries) {
      const bang = entry.indexOf('!')
      const nonLocal = entry.slice(0, bang + 1)
      const group = entry.slice(bang + 1)
      if (ctx.localGroups.membersBehind(nonLocal, group, ctx.options.groupExpiryMs, now).length > 0) continue
      this.ownEntries.delete(entry)
      const index = consistentHash(group, ctx.shards.length)
      const list = gone.get(index) ?? []
      list.push([nonLocal, ctx.memberSetName(group)])
      gone.set(index, list)
    }
    for (const [index, entries] of gone) {
      const shard = shardAt(ctx.shards, index)
      if (!shard.reachable) continue
      const pipeline = shard.commands.pipeline()
      for (const [nonLocal, group] of entries) pipeline.srem(shard.keys.ownerGroups(nonLocal), group)
      // Best effort: an entry left behind costs a sweep a little work, or expires with its set.
      void pipeline.exec().catch((err: unknown) => {
        ctx.log.debug({ err, host: shard.label }, 'could not forget expired groups')
      })
    }
  }

  /**
   * One registry step on a shard: claims processes whose heartbeat stopped, then sweeps those this process may
   * (its own claims, and sweeps left by a sweeper that died), each in bounded steps. Never rejects.
   */
  private async sweep(index: number, shard: RedisShard): Promise<void> {
    const { ctx } = this
    const own = shard.keys.queue(`specific.${ctx.clientId}!`)
    try {
      const { cursor, claimed, pending } = await shard.call(
        (client) =>
          runSweep(client, shard.keys, {
            cursor: this.registryCursors.get(index) ?? '0',
            nowMs: Date.now(),
            staleAfterMs: ctx.options.staleAfterMs,
            scanCount: REGISTRY_SCAN_COUNT,
            ownQueue: own,
            leaseMs: ctx.options.staleAfterMs,
          }),
        { signal: ctx.closing },
      )
      this.registryCursors.set(index, cursor)
      if (claimed > 0) {
        ctx.onSwept(claimed)
        ctx.log.info({ host: shard.label, swept: claimed }, 'removing dead processes from their groups')
      }
      for (const queue of pending) {
        if (ctx.isClosed()) return
        const removed = await this.sweepProcess(shard, queue, own)
        if (removed > 0) ctx.log.debug({ host: shard.label, queue, removed }, 'dead process swept')
        await ctx.onProcessSwept(shard, queue)
      }
    } catch (err) {
      ctx.log.debug({ err, host: shard.label }, 'sweep failed')
    }
  }

  /** Sweeps one dead process, step after step, until it is done, another holds it, or the layer closes. */
  private async sweepProcess(shard: RedisShard, queue: string, own: string): Promise<number> {
    const { options } = this.ctx
    const { keys } = shard
    let step: SweepStep = { removed: 0, state: 'more', setCursor: '0', group: '', groupCursor: '0' }
    let removed = 0
    while (step.state === 'more' && !this.ctx.isClosed()) {
      const from = step
      step = await shard.call(
        (client) =>
          runSweepProcess(client, keys, {
            queue,
            nowMs: Date.now(),
            leaseMs: options.staleAfterMs,
            ownQueue: own,
            budget: SWEEP_BUDGET,
            from,
          }),
        { idempotent: true, signal: this.ctx.closing },
      )
      removed += step.removed
    }
    return removed
  }
}
