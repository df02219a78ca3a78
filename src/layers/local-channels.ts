import { ArrivalOrder } from './arrival-order.js'
import type { Message } from './channel-layer.js'
import type { ChannelListener } from './channel-listener.js'
import { newChannelState, type ChannelState, type Entry, type Waiter } from './channel-state.js'
import { PendingReceive } from './pending-receive.js'

/** An expired message, as `onExpired` gets it. */
export interface ExpiredEntry {
  readonly channel: string
  readonly message: Message
  readonly expiresAt: number
}

/** What `offer` did with a message. */
export type OfferResult = typeof HANDED | typeof QUEUED | typeof DROPPED
export const HANDED = 1
export const QUEUED = 0
export const DROPPED = -1

/** Empty channel states kept for reuse, at most. */
const MAX_IDLE_STATES = 1024

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
  /** Queued entries in arrival order, for the O(1) expiry purge. */
  private readonly arrivals = new ArrivalOrder<Entry>()
  /**
   * States that held a message when last pushed to (some may be empty since), until forgotten: all `headroom()`
   * looks at, where it read every channel's state once or twice per read (10 000 for 10 000 idle connections).
   */
  private readonly occupied = new Set<ChannelState>()
  /** Full channels whose receiver took nothing for a while: `headroom()` no longer waits for them. */
  private readonly stalled = new Set<string>()
  /** Empty states kept for reuse. */
  private readonly idle: ChannelState[] = []
  /** Readers waiting for room (`waitForSpace`), one per shard at most. */
  private spaceWaiters: (() => void)[] = []

  /** `onFirstQueued`: a message that can expire was queued where none was (`queued` went from 0 to 1). */
  constructor(
    private readonly capacityOf: (channel: string) => number,
    private readonly onExpired: (entry: ExpiredEntry) => void,
    private readonly onFirstQueued: () => void = () => undefined,
  ) {}

  /** Hands the message to the oldest pending receive; false if nobody is waiting. */
  handToWaiter(channel: string, message: Message): boolean {
    const state = this.channels.get(channel)
    return state !== undefined && this.handOver(channel, state, message)
  }

  /** Hands over or queues; false when the channel's buffer is at capacity (the caller counts the drop). */
  deliver(channel: string, message: Message, expiresAt: number): boolean {
    return this.offer(channel, message, expiresAt) !== DROPPED
  }

  /**
   * `deliver` with one lookup, saying what happened: HANDED to a pending receive, QUEUED, or DROPPED (full). A
   * group message reaches every local member through this, once per member.
   */
  offer(channel: string, message: Message, expiresAt: number, pastCapacity = false): OfferResult {
    const state = this.channels.get(channel)
    if (state !== undefined && this.handOver(channel, state, message)) return HANDED
    return this.enqueue(channel, state ?? this.create(channel), message, expiresAt, pastCapacity) ? QUEUED : DROPPED
  }

  private handOver(channel: string, state: ChannelState, message: Message): boolean {
    // A busy receiver (no pending receive) is the common case in a burst.
    const waiter = state.waiters.shift()
    if (waiter === undefined) return false
    if (waiter instanceof PendingReceive) {
      this.forgetIfIdle(channel, state)
      waiter.resolve(message)
    } else {
      // Kept for the listener, which listens again once it has handled the message (a Map delete and set less per
      // delivery); `unlisten` forgets it if the listener stops instead.
      state.handedTo = waiter
      waiter.channelMessage(message)
    }
    return true
  }

  /**
   * `offer` for a message that may expire out of arrival order (a task: `taskExpiryMs`, or never): kept out of
   * the arrival-order list, so the O(1) purge never stops at it, and found expired by `take` instead.
   */
  offerUntracked(channel: string, message: Message, expiresAt: number): OfferResult {
    const state = this.channels.get(channel)
    if (state !== undefined && this.handOver(channel, state, message)) return HANDED
    const target = state ?? this.create(channel)
    if (target.queue.length >= target.capacity) return DROPPED
    this.push(target, { channel, message, expiresAt, tracked: false, reported: false })
    return QUEUED
  }

  /**
   * Queues without looking for a pending receive (the caller just did); false when at capacity, unless
   * `pastCapacity` (a delayed send come due: it was accepted when sent, and nobody is left to refuse it to).
   */
  private enqueue(
    channel: string,
    state: ChannelState,
    message: Message,
    expiresAt: number,
    pastCapacity = false,
  ): boolean {
    if (!pastCapacity && state.queue.length >= state.capacity) return false
    const entry: Entry = { channel, message, expiresAt, tracked: true, reported: false }
    this.push(state, entry)
    if (this.arrivals.track(entry)) this.onFirstQueued()
    return true
  }

  /**
   * Puts a message the caller already holds (a task being retried, released or recovered) at the tail of the
   * channel, past capacity, expiring only at `expiresAt` (never by default), so it cannot be lost; a pending
   * receive gets it first. Returns whether a receive got it. Such entries stay out of `arrivals` (the
   * arrival-order expiry list), so the O(1) purge never stops at them.
   */
  requeue(channel: string, message: Message, expiresAt = Number.POSITIVE_INFINITY): boolean {
    if (this.handToWaiter(channel, message)) return true
    const state = this.channels.get(channel) ?? this.create(channel)
    this.push(state, { channel, message, expiresAt, tracked: false, reported: false })
    return false
  }

  /** The oldest unexpired queued message, if any. */
  take(channel: string, now?: number): Message | undefined {
    const state = this.channels.get(channel)
    if (state === undefined) return undefined
    let entry = state.queue.shift()
    // The clock only for an entry to check: a consumer asks after nearly every message, mostly of an empty channel.
    const at = entry === undefined ? 0 : (now ?? Date.now())
    while (entry !== undefined && entry.expiresAt <= at) {
      // Behind an untracked entry, `purgeExpired` may already have reported this one without reaching it.
      if (entry.tracked) this.arrivals.untrack(entry)
      if (!entry.reported) this.onExpired(entry)
      entry = state.queue.shift()
    }
    if (entry?.tracked === true) this.arrivals.untrack(entry)
    if (this.stalled.size > 0) this.stalled.delete(channel)
    if (this.spaceWaiters.length > 0 && state.queue.length < state.capacity) this.wakeSpaceWaiters()
    this.forgetIfIdle(channel, state)
    return entry?.message
  }

  /**
   * How many messages every channel can still take without a drop, at most `limit` (pass the smallest capacity a
   * channel may have: a busy receiver's channel may have no state here, and an empty channel can take that many,
   * so only channels holding messages are looked at). Full channels marked stalled are left out. A reader pulls
   * no more than this at once, so a burst waits where it came from instead of overflowing buffers whose receivers
   * have not had a turn yet.
   */
  headroom(limit: number): number {
    let room = limit
    for (const state of this.occupied) {
      const held = state.queue.length
      // Emptied since (taken, expired, cleared, or reused for another channel): forgotten here, where it is cheap.
      if (held === 0) {
        this.vacate(state)
        continue
      }
      const free = state.capacity - held
      if (free < room && (this.stalled.size === 0 || !this.stalled.has(state.channel))) room = Math.max(0, free)
    }
    return room
  }

  /** Resolves when a receive frees space in a full channel, or after `timeoutMs`. */
  waitForSpace(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.spaceWaiters = this.spaceWaiters.filter((waiter) => waiter !== wake)
        resolve()
      }
      const timer = setTimeout(wake, timeoutMs)
      timer.unref()
      this.spaceWaiters.push(wake)
    })
  }

  /** Ends every `waitForSpace` now (space, or shutdown). */
  wakeSpaceWaiters(): void {
    for (const wake of [...this.spaceWaiters]) wake()
  }

  /**
   * Marks every full channel stalled: its receiver took nothing while the reader waited, so later reads stop
   * waiting for it and what it cannot hold is dropped (its capacity, as for any slow receiver). Its next
   * receive unmarks it.
   */
  markFullStalled(): void {
    for (const [channel, state] of this.channels) {
      if (state.queue.length >= state.capacity) this.stalled.add(channel)
    }
  }

  /** Waits for the next message handed to `channel`. Rejects with `signal.reason` if aborted first. */
  wait(channel: string, signal: AbortSignal | undefined): Promise<Message> {
    const state = this.channels.get(channel) ?? this.create(channel)
    return new Promise<Message>((resolve, reject) => {
      state.waiters.add(new PendingReceive(channel, signal, resolve, reject, this.onWaitAborted))
    })
  }

  /**
   * The channel's oldest queued message (as `take`), or else `listener` registered for the next one handed to
   * `channel`, as `wait` does a receive. A listener already registered there keeps its place.
   */
  takeOrListen(channel: string, listener: ChannelListener): Message | undefined {
    return this.takeOrListenIn(channel, this.channels.get(channel), listener)
  }

  private takeOrListenIn(
    channel: string,
    state: ChannelState | undefined,
    listener: ChannelListener,
  ): Message | undefined {
    // The usual case: a listener back for its next message finds the state it was handed the last one from.
    if (state?.queue.length === 0) {
      state.waiters.add(listener)
      return undefined
    }
    const message = state === undefined ? undefined : this.take(channel)
    if (message === undefined) (this.channels.get(channel) ?? this.create(channel)).waiters.add(listener)
    return message
  }

  /**
   * `takeOrListen` for the listener this channel last handed a message to, back for the next one: it was accepted
   * for this name before, so the caller need not check the name again. Null once it is registered; undefined,
   * doing nothing, for any other listener.
   */
  takeOrListenAgain(channel: string, listener: ChannelListener): Message | null | undefined {
    const state = this.channels.get(channel)
    if (state === undefined || state.handedTo !== listener) return undefined
    return this.takeOrListenIn(channel, state, listener) ?? null
  }

  /**
   * Takes `listener` off `channel`'s waiters; false if it was not there (its message was handed over). Either way
   * the channel's state is forgotten if nothing is left in it: a listener that stops calls this.
   */
  unlisten(channel: string, listener: ChannelListener): boolean {
    const state = this.channels.get(channel)
    if (state === undefined) return false
    const removed = state.waiters.delete(listener)
    if (state.handedTo === listener) state.handedTo = undefined
    this.forgetIfIdle(channel, state)
    return removed
  }

  /** A pending receive's signal aborted. Still waiting means no message was handed over: it stays queued. */
  private readonly onWaitAborted = (pending: PendingReceive): void => {
    // Still waiting, the channel's state is the one it was added to: a state with waiters is never reused.
    const state = this.channels.get(pending.channel)
    if (state === undefined || !state.waiters.delete(pending)) return
    this.forgetIfIdle(pending.channel, state)
    pending.reject(pending.signal?.reason)
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
    for (let entry = this.arrivals.shiftExpired(now); entry !== undefined; entry = this.arrivals.shiftExpired(now)) {
      const state = this.channels.get(entry.channel)
      // Not the head only behind an untracked entry: `take` then skips it without a second report.
      if (state?.queue.peek() === entry) {
        state.queue.shift()
        this.forgetIfIdle(entry.channel, state)
      } else {
        entry.reported = true
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
    this.arrivals.clear()
    this.stalled.clear()
  }

  /** Rejects every pending receive, tells every listener, and forgets everything. */
  rejectAll(error: unknown): void {
    const waiters: Waiter[] = []
    for (const state of this.channels.values()) waiters.push(...state.waiters)
    this.channels.clear()
    for (const state of this.occupied) state.occupied = false
    this.occupied.clear()
    this.arrivals.clear()
    this.stalled.clear()
    this.wakeSpaceWaiters()
    // After forgetting: a listener told of the close may call `listen` again, which must not register it.
    for (const waiter of waiters) {
      if (waiter instanceof PendingReceive) waiter.reject(error)
      else waiter.channelClosed(error)
    }
  }

  /** Number of channels with queued messages or pending receives (for leak checks). */
  get size(): number {
    return this.channels.size
  }

  /** Queued messages that can expire (requeued tasks are not counted). */
  get queued(): number {
    return this.arrivals.size
  }

  /** Queues `entry` on `state`; a state that now holds its only message joins `occupied` (it may still be there). */
  private push(state: ChannelState, entry: Entry): void {
    state.queue.push(entry)
    if (state.queue.length === 1 && !state.occupied) {
      state.occupied = true
      this.occupied.add(state)
    }
  }

  private vacate(state: ChannelState): void {
    state.occupied = false
    this.occupied.delete(state)
  }

  private create(channel: string): ChannelState {
    const capacity = this.capacityOf(channel)
    const state = this.idle.pop() ?? newChannelState(channel, capacity)
    state.channel = channel
    state.capacity = capacity
    this.channels.set(channel, state)
    return state
  }

  private forgetIfIdle(channel: string, state: ChannelState): void {
    if (state.queue.length === 0 && state.waiters.size === 0) {
      this.channels.delete(channel)
      this.stalled.delete(channel)
      // An idle state must not keep a stopped consumer alive.
      state.handedTo = undefined
      if (state.occupied) this.vacate(state)
      // A consumer's channel goes idle and back after nearly every message: reuse its state rather than churn.
      if (this.idle.length < MAX_IDLE_STATES) this.idle.push(state)
    }
  }
}
