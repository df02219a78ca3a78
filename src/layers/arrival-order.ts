import { Fifo } from './fifo.js'

/** What the arrival-order list holds: a queued message, tracked until it is taken or expires. */
export interface Arrival {
  readonly expiresAt: number
  /**
   * Still queued and in the list; false once taken or expired (it is then skipped, and compacted away), and from
   * the start for a message that may expire out of arrival order, which only its channel's reader finds expired.
   */
  tracked: boolean
}

/** Untracked entries the list may hold beyond twice the tracked ones before it is compacted. */
const COMPACT_SLACK = 1024

/**
 * Queued messages in arrival order, for an O(1) expiry purge: messages mostly expire in the order they arrived,
 * so a purge walks from the oldest and stops at the first live one. A taken entry is not removed (a hash delete per
 * message, and a burst of 20 000 grows and shrinks the set): it is only marked untracked and skipped, and the list
 * is compacted once such entries outnumber the tracked ones.
 */
export class ArrivalOrder<A extends Arrival> {
  private entries = new Fifo<A>()
  private live = 0

  /** Tracked entries. */
  get size(): number {
    return this.live
  }

  /** Adds a queued message; true when it is the only tracked one (the count went from 0 to 1). */
  track(entry: A): boolean {
    this.entries.push(entry)
    const first = this.live++ === 0
    if (this.entries.length > 2 * this.live + COMPACT_SLACK) this.compact()
    return first
  }

  /** The entry was taken or expired: no longer counted, skipped when the walk reaches it. */
  untrack(entry: A): void {
    entry.tracked = false
    this.live--
  }

  /** The oldest tracked entry if it expired by `now`, taken off the list and untracked; else undefined. */
  shiftExpired(now: number): A | undefined {
    for (let entry = this.entries.peek(); entry !== undefined; entry = this.entries.peek()) {
      if (entry.tracked && entry.expiresAt > now) return undefined
      this.entries.shift()
      if (!entry.tracked) continue
      this.untrack(entry)
      return entry
    }
    return undefined
  }

  clear(): void {
    this.entries.clear()
    this.live = 0
  }

  /** Drops untracked entries (amortised O(1): it runs once they outnumber the tracked ones). */
  private compact(): void {
    const old = this.entries
    this.entries = new Fifo()
    for (let entry = old.shift(); entry !== undefined; entry = old.shift()) {
      if (entry.tracked) this.entries.push(entry)
    }
  }
}
