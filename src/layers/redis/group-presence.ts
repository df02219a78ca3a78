import type { Logger } from '../../logger.js'
import type { Message } from '../channel-layer.js'
import { nonLocalName } from '../names.js'
import {
  assertPresenceGroup,
  joinEvent,
  leaveEvent,
  presenceFull,
  presenceJoinInfo,
} from '../presence/presence-args.js'
import type { GroupPresence, PresenceEntry, PresenceInfo } from '../presence/presence-types.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import {
  runPresenceJoin,
  runPresenceLeave,
  runPresenceList,
  runPresencePrune,
  type PresenceLiveness,
} from './scripts/group-presence-scripts.js'

/** Entries one presence-prune.lua call visits (HSCAN COUNT), as the group sweeps' budget (presence.ts). */
const PRUNE_COUNT = 250
/** Groups read from a dead process's owner-presence set per SSCAN. */
const OWNER_SCAN_COUNT = 100

/**
 * Entries one presence-list.lua step reads (HSCAN COUNT): a list of up to this many is one round trip, a larger one
 * a few, each well under the 10 ms a call may hold Redis.
 */
const LIST_STEP = 1_000

export interface GroupPresenceContext {
  readonly options: ResolvedRedisOptions
  readonly log: Logger
  shardForGroup(group: string): RedisShard
  assertOpen(operation: string): void
  isClosed(): boolean
  /** Resolves once this process's first heartbeat is in Redis (a list only shows live processes' channels). */
  registered(): Promise<void>
  /** The layer's `groupSend`, for the `presence.join` and `presence.leave` events. */
  groupSend(group: string, message: Message): Promise<void>
}

/**
 * Presence on Redis (issue 16): one hash per group on the group's shard, channel -> `<joinedAt> <refreshedAt>
 * <info JSON>`, so `list` is one script call whatever the list's size (at most `maxPresence`). An entry lives
 * `groupExpiryMs` after its last join, as a group membership does, and a process's channel (`specific.x!y`) only
 * while that process's heartbeat is under `staleAfterMs` old: `list` leaves stale entries out at once, then prunes
 * them in bounded steps and announces each with `presence.leave`; the sweep of a dead process (presence.ts) prunes
 * its entries too, so they do not pile up where nobody lists. The `maxPresence` check is inside the join script.
 *
 * @example
 * ```ts
 * const layer = new RedisChannelLayer({ hosts: [url], presence: ['chat.*'] })
 * await layer.presence.join('chat.lobby', channel, { user: 'ada' })
 * await layer.presence.list('chat.lobby') // [{ channel, info: { user: 'ada' }, joinedAt }]
 * ```
 */
export class RedisGroupPresence implements GroupPresence {
  /** Groups being pruned by this process after a `list` found stale entries: one prune at a time per group. */
  private readonly pruning = new Set<string>()

  constructor(private readonly ctx: GroupPresenceContext) {}

  async join(group: string, channel: string, info?: PresenceInfo): Promise<void> {
    this.ctx.assertOpen('join presence')
    const kept = presenceJoinInfo(this.ctx.options, group, channel, info)
    await this.ctx.registered()
    const { options } = this.ctx
    const shard = this.ctx.shardForGroup(group)
    const attempt = () =>
      shard.call(
        (client) =>
          runPresenceJoin(client, shard.keys, {
            group,
            channel,
            nowMs: Date.now(),
            infoJson: JSON.stringify(kept),
            maxPresence: options.maxPresence,
            groupExpiryMs: options.groupExpiryMs,
          }),
        { idempotent: true },
      )
    let result = await attempt()
    if (result.state === 'full' && (await this.prune(group, '*')) > 0) result = await attempt()
    if (result.state === 'full') throw presenceFull(group, options.maxPresence)
    await this.ctx.groupSend(group, joinEvent(channel, kept))
  }

  async leave(group: string, channel: string): Promise<void> {
    this.ctx.assertOpen('leave presence')
    assertPresenceGroup(this.ctx.options, group, channel)
    const shard = this.ctx.shardForGroup(group)
    const removed = await shard.call((client) => runPresenceLeave(client, shard.keys, { group, channel }), {
      idempotent: true,
    })
    if (removed) await this.ctx.groupSend(group, leaveEvent(channel))
  }

  async list(group: string): Promise<PresenceEntry[]> {
    this.ctx.assertOpen('list presence')
    assertPresenceGroup(this.ctx.options, group)
    const shard = this.ctx.shardForGroup(group)
    const { keys } = shard
    // Bounded steps, not one call: HSCAN may repeat an entry, never miss one present throughout.
    const found = new Map<string, string>()
    let stale = 0
    let cursor = '0'
    do {
      const from = cursor
      const step = await shard.call(
        (client) => runPresenceList(client, keys, { group, ...this.liveness(), cursor: from, count: LIST_STEP }),
        { idempotent: true },
      )
      cursor = step.cursor
      stale += step.stale
      for (const [channel, value] of step.entries) found.set(channel, value)
    } while (cursor !== '0')
    if (stale > 0 && !this.pruning.has(group)) {
      this.pruning.add(group)
      void this.prune(group, '*').finally(() => this.pruning.delete(group))
    }
    return [...found].map(([channel, value]) => parseEntry(channel, value)).sort(byJoinedAt)
  }

  /**
   * Removes the entries of a dead process (its queue key, from the registry sweep in presence.ts) from the groups
   * its owner-presence set on `shard` names, a bounded step at a time, then the set. Never rejects.
   */
  async sweepProcess(shard: RedisShard, queue: string): Promise<void> {
    const { keys } = shard
    const owner = keys.ownerPresence(nonLocalName(keys.queueName(queue)))
    const match = `${escapeGlob(nonLocalName(keys.queueName(queue)))}*`
    try {
      let cursor = '0'
      do {
        const from = cursor
        const [next, groups] = await shard.call((client) => client.sscan(owner, from, 'COUNT', OWNER_SCAN_COUNT), {
          idempotent: true,
        })
        cursor = next
        for (const group of groups) {
          if (this.ctx.isClosed()) return
          await this.prune(group, match)
        }
      } while (cursor !== '0')
      await shard.call((client) => client.unlink(owner), { idempotent: true })
    } catch (err) {
      this.ctx.log.debug({ err, host: shard.label }, 'presence sweep failed')
    }
  }

  /** Prunes a group's stale entries (those matching `match`), announcing each; resolves how many. Never rejects. */
  private async prune(group: string, match: string): Promise<number> {
    const shard = this.ctx.shardForGroup(group)
    const { keys } = shard
    let removed = 0
    try {
      let cursor = '0'
      do {
        const from = cursor
        const step = await shard.call(
          (client) =>
            runPresencePrune(client, keys, { group, cursor: from, count: PRUNE_COUNT, match, ...this.liveness() }),
          { idempotent: true },
        )
        cursor = step.cursor
        removed += step.removed.length
        for (const channel of step.removed) await this.ctx.groupSend(group, leaveEvent(channel))
      } while (cursor !== '0' && !this.ctx.isClosed())
    } catch (err) {
      this.ctx.log.debug({ err, group }, 'presence prune failed')
    }
    return removed
  }

  private liveness(): PresenceLiveness {
    const { options } = this.ctx
    return { nowMs: Date.now(), staleAfterMs: options.staleAfterMs, groupExpiryMs: options.groupExpiryMs }
  }
}

function parseEntry(channel: string, value: string): PresenceEntry {
  const first = value.indexOf(' ')
  const second = value.indexOf(' ', first + 1)
  return { channel, info: JSON.parse(value.slice(second + 1)) as PresenceInfo, joinedAt: Number(value.slice(0, first)) }
}

function byJoinedAt(a: PresenceEntry, b: PresenceEntry): number {
  return a.joinedAt - b.joinedAt || (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0)
}

/** Escapes Redis glob characters (MATCH) in a name. */
function escapeGlob(name: string): string {
  return name.replace(/[*?[\]\\]/g, '\\$&')
}
