/**
 * The groups this process's own channels are in, as this process asked for them. It lets one compact copy of a
 * group message fan out locally to every member, and lets memberships be re-added after Redis lost them.
 */
export class LocalGroups {
  private readonly groups = new Map<string, Map<string, number>>()
  /** Arrays, replaced on change: a channel is in a group or two, and a Set's smallest table is thrice the size. */
  private readonly byChannel = new Map<string, readonly string[]>()

  add(group: string, channel: string, now = Date.now()): void {
    let members = this.groups.get(group)
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(channel, now)
    const joined = this.byChannel.get(channel)
    if (joined === undefined) this.byChannel.set(channel, [group])
    else if (!joined.includes(group)) this.byChannel.set(channel, [...joined, group])
  }

  remove(group: string, channel: string): void {
    const members = this.groups.get(group)
    members?.delete(channel)
    if (members?.size === 0) this.groups.delete(group)
    const joined = this.byChannel.get(channel)?.filter((name) => name !== group)
    if (joined === undefined) return
    if (joined.length === 0) this.byChannel.delete(channel)
    else this.byChannel.set(channel, joined)
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
