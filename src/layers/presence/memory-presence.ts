import type { Message } from '../channel-layer.js'
import { assertPresenceGroup, joinEvent, leaveEvent, presenceFull, presenceJoinInfo } from './presence-args.js'
import type { GroupPresence, PresenceEntry, ResolvedPresenceOptions } from './presence-types.js'

export interface MemoryPresenceContext {
  readonly options: ResolvedPresenceOptions
  assertOpen(operation: string): void
  /** The layer's `groupSend`, for the `presence.join` and `presence.leave` events. */
  groupSend(group: string, message: Message): Promise<void>
}

/**
 * Presence for the in-memory layer (issue 16): a map per group, in join order. An entry lives until `leave`,
 * `flush` or `close` (one process: nothing can crash without taking the layer with it); a consumer's entries
 * end with it (`ConsumerLayer`). A re-join replaces the info, keeps `joinedAt` and its place, and is announced again.
 *
 * @example
 * ```ts
 * const layer = new InMemoryChannelLayer({ presence: ['chat.*'] })
 * await layer.presence.join('chat.lobby', channel, { user: 'ada' })
 * await layer.presence.list('chat.lobby') // [{ channel, info: { user: 'ada' }, joinedAt }]
 * ```
 */
export class MemoryPresence implements GroupPresence {
  private readonly groups = new Map<string, Map<string, PresenceEntry>>()

  constructor(private readonly ctx: MemoryPresenceContext) {}

  async join(group: string, channel: string, info?: PresenceEntry['info']): Promise<void> {
    this.ctx.assertOpen('join presence')
    const kept = presenceJoinInfo(this.ctx.options, group, channel, info)
    let members = this.groups.get(group)
    const previous = members?.get(channel)
    if (previous === undefined && (members?.size ?? 0) >= this.ctx.options.maxPresence) {
      throw presenceFull(group, this.ctx.options.maxPresence)
    }
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(channel, Object.freeze({ channel, info: kept, joinedAt: previous?.joinedAt ?? Date.now() }))
    await this.ctx.groupSend(group, joinEvent(channel, kept))
  }

  async leave(group: string, channel: string): Promise<void> {
    this.ctx.assertOpen('leave presence')
    assertPresenceGroup(this.ctx.options, group, channel)
    const members = this.groups.get(group)
    if (members?.delete(channel) !== true) return
    if (members.size === 0) this.groups.delete(group)
    await this.ctx.groupSend(group, leaveEvent(channel))
  }

  async list(group: string): Promise<PresenceEntry[]> {
    this.ctx.assertOpen('list presence')
    assertPresenceGroup(this.ctx.options, group)
    return [...(this.groups.get(group)?.values() ?? [])]
  }

  /** Forgets every entry, announcing nothing (the layer's `flush` and `close`). */
  clear(): void {
    this.groups.clear()
  }
}
