import type { RateLimit } from './rate-limit.js'

/**
 * The in-memory store's rate limits: a sliding-window log per channel, the start times (ms) of the claims in the
 * last `perMs`. Exact (a window never holds more than `max` starts) at the cost of one number per start; the Redis
 * store keeps the same log in a sorted set (task-settle.lua). A channel's limit is the last one declared.
 */
export class SlidingWindows {
  private readonly limits = new Map<string, RateLimit>()
  private readonly starts = new Map<string, number[]>()

  /** Sets (or, with undefined, removes) `channel`'s limit: the last declaration wins. */
  declare(channel: string, limit: RateLimit | undefined): void {
    if (limit === undefined) {
      this.limits.delete(channel)
      this.starts.delete(channel)
    } else {
      this.limits.set(channel, limit)
    }
  }

  /** How many claims `channel` may start at `now` (Infinity without a limit). */
  available(channel: string, now: number): number {
    const limit = this.limits.get(channel)
    if (limit === undefined) return Infinity
    return limit.max - this.window(channel, limit, now).length
  }

  /** Records `count` starts at `now` (a channel without a limit keeps no log). */
  record(channel: string, now: number, count: number): void {
    if (count <= 0 || !this.limits.has(channel)) return
    let starts = this.starts.get(channel)
    if (starts === undefined) {
      starts = []
      this.starts.set(channel, starts)
    }
    for (let i = 0; i < count; i++) starts.push(now)
  }

  /** Ms from `now` until `channel` may start a claim again: 0 when it may now (or has no limit). */
  waitMs(channel: string, now: number): number {
    const limit = this.limits.get(channel)
    if (limit === undefined) return 0
    const starts = this.window(channel, limit, now)
    if (starts.length < limit.max) return 0
    // The window frees a slot when its start `max` places from the end leaves it.
    const oldest = starts[starts.length - limit.max] as number
    return Math.max(oldest + limit.perMs - now, 1)
  }

  clear(): void {
    this.starts.clear()
  }

  /** The starts still in the window at `now`, older ones dropped. */
  private window(channel: string, limit: RateLimit, now: number): number[] {
    const starts = this.starts.get(channel) ?? []
    let expired = 0
    while (expired < starts.length && (starts[expired] as number) <= now - limit.perMs) expired++
    if (expired > 0) starts.splice(0, expired)
    return starts
  }
}
