/**
 * The groups this process's own channels are in, as this process asked for them. It lets one compact copy of a
 * group message fan out locally to every member, and lets memberships be re-added after Redis lost them.
 */
export class LocalGroups {
  private readonly groups = new Map<string, Map<string, number>>()
  /** Arrays, replaced on change: a channel is in a group or two, and a Set's smallest table is thrice the size. */
  private readonly byChannel = new Map<string, readonly string[]>()
  /**
   * Each group's live members as last computed, until its oldest membership expires or the group changes: every
   * group message asks for them, and rebuilding a 5 000-entry array per message was a visible share of fan-out.
   */
  private readonly live = new Map<string, LiveMembers>()

  add(group: string, channel: string, now = Date.now()): void {
    let members = this.groups.get(group)
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(channel, now)
    this.live.delete(group)
    const joined = this.byChannel.get(channel)
    if (joined === undefined) this.byChannel.set(channel, [group])
    else if (!joined.includes(group)) this.byChannel.set(channel, [...joined, group])
  }

  remove(group: string, channel: string): void {
    const members = this.groups.get(group)
    members?.delete(channel)
    if (members?.size === 0) this.groups.delete(group)
    this.live.delete(group)
    const joined = this.byChannel.get(channel)?.filter((name) => name !== group)
    if (joined === undefined) return
    if (joined.length === 0) this.byChannel.delete(channel)
    else this.byChannel.set(channel, joined)
  }

  /** Members of `group` whose membership is younger than `groupExpiryMs` (a shared array: do not modify it). */
  members(group: string, groupExpiryMs: number, now = Date.now()): readonly string[] {
    const cached = this.live.get(group)
    if (cached !== undefined && cached.groupExpiryMs === groupExpiryMs && now < cached.validUntil)
      return cached.channels
    const members = this.groups.get(group)
    if (members === undefined) return []
    const channels: string[] = []
    let oldest = Infinity
    for (const [channel, addedAt] of members) {
      if (now - addedAt < groupExpiryMs) {
        channels.push(channel)
        oldest = Math.min(oldest, addedAt)
      }
    }
    // A membership added in the future (clock steps) must not make the list valid forever: now bounds it too.
    this.live.set(group, { channels, groupExpiryMs, validUntil: Math.min(oldest, now) + groupExpiryMs })
    return channels
  }

  groupsOf(channel: string): string[] {
    return [...(this.byChannel.get(channel) ?? [])]
  }

  /** Forgets memberships older than `groupExpiryMs` (Redis expires its copy the same way). */
  purge(groupExpiryMs: number, now = Date.now()): void {
    for (const [group, members] of this.groups) {
      for (const [channel, addedAt] of members) {
        if (now - addedAt >= groupExpiryMs) this.remove(group, channel)
      }
    }
  }

  /** Every (group, channel) pair, for re-adding after a Redis restart. */
  *entries(): IterableIterator<readonly [group: string, channel: string]> {
    for (const [group, members] of this.groups) for (const channel of members.keys()) yield [group, channel]
  }

  clear(): void {
    this.groups.clear()
    this.byChannel.clear()
    this.live.clear()
  }

  get size(): number {
    return this.groups.size
  }
}

interface LiveMembers {
  readonly channels: readonly string[]
  readonly groupExpiryMs: number
  /** When the oldest of these memberships expires. */
  readonly validUntil: number
}
