/**
 * The groups this process's own channels are in, as this process asked for them. It lets one compact copy of a
 * group message fan out locally to every member, and lets memberships be re-added after Redis lost them.
 */
export class LocalGroups {
  private readonly groups = new Map<string, Map<string, number>>()
  private readonly byChannel = new Map<string, Set<string>>()

  add(group: string, channel: string, now = Date.now()): void {
    let members = this.groups.get(group)
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(channel, now)
    let joined = this.byChannel.get(channel)
    if (joined === undefined) {
      joined = new Set()
      this.byChannel.set(channel, joined)
    }
    joined.add(group)
  }

  remove(group: string, channel: string): void {
    const members = this.groups.get(group)
    members?.delete(channel)
    if (members?.size === 0) this.groups.delete(group)
    const joined = this.byChannel.get(channel)
    joined?.delete(group)
    if (joined?.size === 0) this.byChannel.delete(channel)
  }

  /** Members of `group` whose membership is younger than `groupExpiryMs`. */
  members(group: string, groupExpiryMs: number, now = Date.now()): string[] {
    const members = this.groups.get(group)
    if (members === undefined) return []
    const live: string[] = []
    for (const [channel, addedAt] of members) {
      if (now - addedAt < groupExpiryMs) live.push(channel)
    }
    return live
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
  }

  get size(): number {
    return this.groups.size
  }
}
