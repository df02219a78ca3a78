import type { DeadLetter } from '../../tasks/task-store.js'

/**
 * The in-memory task store's dead letters: per channel, in death order (a Map keeps insertion order and finds or
 * deletes by id in O(1)). Bounded per channel, oldest dropped first (reported through `onDrop`); purged lazily
 * `retentionMs` after death, walking from the oldest and stopping at the first one kept.
 *
 * @example
 * ```ts
 * const shelf = new DeadLetters(10_000, 7 * 86_400_000, (channel, count) => log.warn({ channel, count }, 'dropped'))
 * shelf.add(letter)
 * shelf.list('jobs.email', 100) // newest first
 * ```
 */
export class DeadLetters {
  private readonly byChannel = new Map<string, Map<string, DeadLetter>>()

  constructor(
    private readonly capacity: number,
    private readonly retentionMs: number,
    private readonly onDrop: (channel: string, count: number) => void,
  ) {}

  add(letter: DeadLetter): void {
    let letters = this.byChannel.get(letter.channel)
    if (letters === undefined) {
      letters = new Map()
      this.byChannel.set(letter.channel, letters)
    }
    letters.set(letter.id, letter)
    let dropped = 0
    for (const id of letters.keys()) {
      if (letters.size <= this.capacity) break
      letters.delete(id)
      dropped++
    }
    if (dropped > 0) this.onDrop(letter.channel, dropped)
  }

  /** Deletes dead letters `retentionMs` old or older, on every channel. */
  purgeExpired(now: number): void {
    for (const channel of [...this.byChannel.keys()]) this.deleteOlder(channel, now - this.retentionMs)
  }

  /** Up to `limit` dead letters of `channel`, newest first. */
  list(channel: string, limit: number): DeadLetter[] {
    const letters = [...(this.byChannel.get(channel)?.values() ?? [])]
    return letters.reverse().slice(0, limit)
  }

  get(channel: string, id: string): DeadLetter | undefined {
    return this.byChannel.get(channel)?.get(id)
  }

  /** Removes and returns the given dead letters (all when `ids` is omitted), oldest first; unknown ids are skipped. */
  take(channel: string, ids?: readonly string[]): DeadLetter[] {
    const letters = this.byChannel.get(channel)
    if (letters === undefined) return []
    const wanted = ids === undefined ? undefined : new Set(ids)
    const taken: DeadLetter[] = []
    for (const letter of letters.values()) {
      if (wanted !== undefined && !wanted.has(letter.id)) continue
      letters.delete(letter.id)
      taken.push(letter)
    }
    if (letters.size === 0) this.byChannel.delete(channel)
    return taken
  }

  /** How many dead letters of `channel` died at or before `cutoff` (Unix ms). */
  countOlder(channel: string, cutoff: number): number {
    let count = 0
    for (const letter of this.byChannel.get(channel)?.values() ?? []) {
      if (letter.diedAt > cutoff) break
      count++
    }
    return count
  }

  /** Deletes dead letters of `channel` that died at or before `cutoff` (Unix ms); resolves to how many. */
  deleteOlder(channel: string, cutoff: number): number {
    const letters = this.byChannel.get(channel)
    if (letters === undefined) return 0
    let deleted = 0
    for (const letter of letters.values()) {
      if (letter.diedAt > cutoff) break
      letters.delete(letter.id)
      deleted++
    }
    if (letters.size === 0) this.byChannel.delete(channel)
    return deleted
  }

  /** Channels holding at least one dead letter, sorted. */
  channels(): string[] {
    return [...this.byChannel.keys()].sort()
  }

  /** Dead letters kept, per channel. */
  counts(): Map<string, number> {
    return new Map([...this.byChannel].map(([channel, letters]) => [channel, letters.size]))
  }

  clear(): void {
    this.byChannel.clear()
  }
}
