import { nonLocalName } from '../names.js'

const NO_MEMBERS: readonly string[] = Object.freeze([])

/**
 * The groups this process's own channels are in, as this process asked for them. It lets a compact copy of a
 * group message fan out locally to the members behind the process queue it came through, and lets memberships be
 * re-added after Redis lost them.
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
  /**
   * The process queue (`prefix.<id>!`) of every channel added so far, or null once channels behind a second one
   * were added. With one `newChannel` prefix, the common case, a group's list needs no splitting by queue, which
   * cost ten times the rest of rebuilding it.
   */
  private soleQueue: string | null | undefined

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
    if (this.soleQueue !== null) {
      const queue = nonLocalName(channel)
      if (this.soleQueue === undefined) this.soleQueue = queue
      else if (this.soleQueue !== queue) this.soleQueue = null
    }
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
    return this.liveMembers(group, groupExpiryMs, now)?.channels ?? NO_MEMBERS
  }

  /**
   * The live members of `group` behind the process queue `nonLocal` (`specific.<id>!`); a shared array, do not
   * modify it. A group send puts one compact copy in EACH of this process's queues that has members (one per
   * `newChannel` prefix), so a copy must reach only its own queue's members, or each member gets the message
   * once per prefix (issue 13).
   */
  membersBehind(nonLocal: string, group: string, groupExpiryMs: number, now = Date.now()): readonly string[] {
    const live = this.liveMembers(group, groupExpiryMs, now)
    if (live === undefined) return NO_MEMBERS
    if (live.byQueue === undefined) return live.queue === nonLocal ? live.channels : NO_MEMBERS
    return live.byQueue.get(nonLocal) ?? NO_MEMBERS
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
    this.soleQueue = undefined
  }

  get size(): number {
    return this.groups.size
  }

  private liveMembers(group: string, groupExpiryMs: number, now: number): LiveMembers | undefined {
    const cached = this.live.get(group)
    if (cached !== undefined && cached.groupExpiryMs === groupExpiryMs && now < cached.validUntil) return cached
    const members = this.groups.get(group)
    if (members === undefined) return undefined
    const channels: string[] = []
    let oldest = Infinity
    for (const [channel, addedAt] of members) {
      if (now - addedAt < groupExpiryMs) {
        channels.push(channel)
        oldest = Math.min(oldest, addedAt)
      }
    }
    const live: LiveMembers = {
      channels,
      queue: this.soleQueue ?? '',
      byQueue: this.soleQueue === null ? byQueue(channels) : undefined,
      groupExpiryMs,
      // A membership added in the future (clock steps) must not make the list valid forever: now bounds it too.
      validUntil: Math.min(oldest, now) + groupExpiryMs,
    }
    this.live.set(group, live)
    return live
  }
}

function byQueue(channels: readonly string[]): Map<string, string[]> {
  const split = new Map<string, string[]>()
  for (const channel of channels) {
    const queue = nonLocalName(channel)
    const behind = split.get(queue)
    if (behind === undefined) split.set(queue, [channel])
    else behind.push(channel)
  }
  return split
}

interface LiveMembers {
  readonly channels: readonly string[]
  /** The process queue behind which all of `channels` are, when `byQueue` is undefined. */
  readonly queue: string
  /** `channels` by process queue, once this process has channels behind several. */
  readonly byQueue: ReadonlyMap<string, readonly string[]> | undefined
  readonly groupExpiryMs: number
  /** When the oldest of these memberships expires. */
  readonly validUntil: number
}
