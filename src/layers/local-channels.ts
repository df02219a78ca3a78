import type { Message } from './channel-layer.js'
import { Fifo } from './fifo.js'

interface Entry {
  readonly channel: string
  readonly message: Message
  readonly expiresAt: number
}

interface Waiter {
  resolve(message: Message): void
  reject(reason: unknown): void
}

interface ChannelState {
  readonly queue: Fifo<Entry>
  /** Pending receives, oldest first (a Set keeps insertion order and deletes in O(1) on abort). */
  readonly waiters: Set<Waiter>
}

/**
 * Per-channel FIFO buffers and pending receives inside one process: the in-memory layer's channels, and the
 * Redis layer's demultiplexed process-specific channels. Bounded by each channel's capacity; cancellation-safe:
 * a message is either handed to a receive (which resolves) or stays queued, never both, never neither.
 *
 * Expiry is lazy: `purgeExpired()` walks entries in arrival order and stops at the first live one, so it costs
 * O(1) per message; `take()` also skips expired heads, so an entry that arrived out of expiry order (another
 * sender's clock) is never delivered late.
 */
export class LocalChannels {
  private readonly channels = new Map<string, ChannelState>()
  /** Queued entries in arrival order. */
  private readonly pending = new Set<Entry>()

  constructor(
    private readonly capacityOf: (channel: string) => number,
    private readonly onExpired: (entry: { channel: string }) => void,
  ) {}

  /** Hands the message to the oldest pending receive; false if nobody is waiting. */
  handToWaiter(channel: string, message: Message): boolean {
    const state = this.channels.get(channel)
    const waiter = state?.waiters.values().next().value
    if (state === undefined || waiter === undefined) return false
    state.waiters.delete(waiter)
    this.forgetIfIdle(channel, state)
    waiter.resolve(message)
    return true
  }

  /** Hands over or queues; false when the channel's buffer is at capacity (the caller counts the drop). */
  deliver(channel: string, message: Message, expiresAt: number): boolean {
    if (this.handToWaiter(channel, message)) return true
    let state = this.channels.get(channel)
    if (state !== undefined && state.queue.length >= this.capacityOf(channel)) return false
    if (state === undefined) {
      state = { queue: new Fifo(), waiters: new Set() }
      this.channels.set(channel, state)
    }
    const entry: Entry = { channel, message, expiresAt }
    state.queue.push(entry)
    this.pending.add(entry)
    return true
  }

  /**
   * Puts a message the caller already holds (a task being retried, released or recovered) at the tail of the
   * channel, past capacity and never expiring, so it cannot be lost; a pending receive gets it first. Returns
   * whether a receive got it. Such entries stay out of `pending` (the arrival-order expiry list), so the O(1)
   * purge never stops at them.
   */
  requeue(channel: string, message: Message): boolean {
    if (this.handToWaiter(channel, message)) return true
    let state = this.channels.get(channel)
    if (state === undefined) {
      state = { queue: new Fifo(), waiters: new Set() }
      this.channels.set(channel, state)
    }
    state.queue.push({ channel, message, expiresAt: Number.POSITIVE_INFINITY })
    return false
  }

  /** The oldest unexpired queued message, if any. */
  take(channel: string, now = Date.now()): Message | undefined {
    const state = this.channels.get(channel)
    if (state === undefined) return undefined
    let entry = state.queue.shift()
    while (entry !== undefined && entry.expiresAt <= now) {
      // Behind a requeued entry, `purgeExpired` may already have reported this one without reaching it.
      if (this.pending.delete(entry)) this.onExpired(entry)
      entry = state.queue.shift()
    }
    if (entry !== undefined) this.pending.delete(entry)
    this.forgetIfIdle(channel, state)
    return entry?.message
  }

  /** Waits for the next message handed to `channel`. Rejects with `signal.reason` if aborted first. */
  wait(channel: string, signal: AbortSignal | undefined): Promise<Message> {
    let state = this.channels.get(channel)
    if (state === undefined) {
      state = { queue: new Fifo(), waiters: new Set() }
      this.channels.set(channel, state)
    }
    const waiters = state.waiters
    return new Promise<Message>((resolve, reject) => {
      const onAbort = (): void => {
        // Still waiting means no message was handed over: it stays queued for the next receive.
        if (!waiters.delete(waiter)) return
        const current = this.channels.get(channel)
        if (current !== undefined) this.forgetIfIdle(channel, current)
        const reason: unknown = signal?.reason
        reject(reason)
      }
      const waiter: Waiter = {
        resolve: (message) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(message)
        },
        reject: (reason) => {
          signal?.removeEventListener('abort', onAbort)
          reject(reason)
        },
      }
      waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Queued messages per channel (expired ones not yet purged included), for `inspect()`. */
  queuedCounts(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const [channel, state] of this.channels) if (state.queue.length > 0) counts.set(channel, state.queue.length)
    return counts
  }

  hasWaiters(channel: string): boolean {
    return (this.channels.get(channel)?.waiters.size ?? 0) > 0
  }

  /** Channels with at least one pending receive. */
  waitingChannels(): string[] {
    const names: string[] = []
    for (const [channel, state] of this.channels) if (state.waiters.size > 0) names.push(channel)
    return names
  }

  /** Drops expired entries, reporting each through `onExpired`. */
  purgeExpired(now = Date.now()): void {
    for (const entry of this.pending) {
      if (entry.expiresAt > now) break
      this.pending.delete(entry)
      const state = this.channels.get(entry.channel)
      // Not the head only behind a requeued (never-expiring) entry: `take` then skips it without a second report.
      if (state?.queue.peek() === entry) {
        state.queue.shift()
        this.forgetIfIdle(entry.channel, state)
      }
      this.onExpired(entry)
    }
  }

  /** Drops every queued message; pending receives keep waiting. */
  clear(): void {
    for (const [channel, state] of this.channels) {
      state.queue.clear()
      this.forgetIfIdle(channel, state)
    }
    this.pending.clear()
  }

  /** Rejects every pending receive and forgets everything. */
  rejectAll(error: unknown): void {
    for (const state of this.channels.values()) {
      for (const waiter of state.waiters) waiter.reject(error)
    }
    this.channels.clear()
    this.pending.clear()
  }

  /** Number of channels with queued messages or pending receives (for leak checks). */
  get size(): number {
    return this.channels.size
  }

  /** Queued messages that can expire (requeued tasks are not counted). */
  get queued(): number {
    return this.pending.size
  }

  private forgetIfIdle(channel: string, state: ChannelState): void {
    if (state.queue.length === 0 && state.waiters.size === 0) this.channels.delete(channel)
  }
}
