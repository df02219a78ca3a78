interface Membership {
  readonly group: string
  readonly channel: string
  readonly addedAt: number
}

/**
 * The in-memory layer's group memberships: group -> members, and channel -> groups so an expired message can remove
 * its channel from every group without a scan. Memberships expire `groupExpiryMs` after the last add; they are kept
 * in last-add order, which with one `groupExpiryMs` is also expiry order, so `purgeExpired` costs O(1) per
 * membership.
 */
export class MemoryGroups {
  private readonly groups = new Map<string, Map<string, Membership>>()
  /** Memberships in last-add order (expiry order). */
  private readonly memberships = new Map<string, Membership>()
  private readonly channelGroups = new Map<string, Set<string>>()

  constructor(private readonly groupExpiryMs: number) {}

  /** Adds `channel` to `group`, or refreshes its membership (moved to the end: the order stays expiry order). */
  add(group: string, channel: string, now = Date.now()): void {
    const key = membershipKey(group, channel)
    const membership = { group, channel, addedAt: now }
    this.memberships.delete(key)
    this.memberships.set(key, membership)
    let members = this.groups.get(group)
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(channel, membership)
    let joined = this.channelGroups.get(channel)
    if (joined === undefined) {
      joined = new Set()
      this.channelGroups.set(channel, joined)
    }
    joined.add(group)
  }

  remove(group: string, channel: string): void {
    this.memberships.delete(membershipKey(group, channel))
    const joined = this.channelGroups.get(channel)
    joined?.delete(group)
    if (joined?.size === 0) this.channelGroups.delete(channel)
    const members = this.groups.get(group)
    if (members === undefined) return
    members.delete(channel)
    if (members.size === 0) this.groups.delete(group)
  }

  /** Removes `channel` from every group it is in (one of its messages expired unread). */
  removeChannel(channel: string): void {
    const joined = this.channelGroups.get(channel)
    if (joined === undefined) return
    for (const group of [...joined]) this.remove(group, channel)
  }

  /** The members of `group`, or undefined when it has none. Copy the keys before delivering: delivery may remove. */
  members(group: string): ReadonlyMap<string, unknown> | undefined {
    return this.groups.get(group)
  }

  /** Drops memberships past `groupExpiryMs`. */
  purgeExpired(now: number): void {
    const cutoff = now - this.groupExpiryMs
    for (const membership of this.memberships.values()) {
      if (membership.addedAt > cutoff) break
      this.remove(membership.group, membership.channel)
    }
  }

  /** Memberships past `groupExpiryMs` at `now`, removed unless `dryRun`. */
  removeExpired(now: number, dryRun: boolean): number {
    const cutoff = now - this.groupExpiryMs
    const expired = [...this.memberships.values()].filter((membership) => membership.addedAt <= cutoff)
    if (!dryRun) for (const { group, channel } of expired) this.remove(group, channel)
    return expired.length
  }

  get size(): number {
    return this.groups.size
  }

  /** group -> member channels, for `inspect`. */
  snapshot(): Map<string, string[]> {
    return new Map([...this.groups].map(([group, members]) => [group, [...members.keys()]]))
  }

  clear(): void {
    this.groups.clear()
    this.memberships.clear()
    this.channelGroups.clear()
  }
}

function membershipKey(group: string, channel: string): string {
  // Names never contain a space, so the pair is unambiguous.
  return `${group} ${channel}`
}
