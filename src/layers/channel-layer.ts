import type { StreamPosition } from './history/positions.js'

/**
 * The channel-layer contract every backend implements (memory and Redis) and `test/conformance/` specifies.
 * Semantics follow Django Channels' layer spec: FIFO per channel, at-most-once per layer message, capacity per
 * channel, message expiry, group membership with expiry, `groupSend` that never raises `ChannelFullError`.
 */

/** A value a message may carry: what JSON and msgpack both represent (bytes travel as msgpack bin). */
export type MessageValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | readonly MessageValue[]
  | { readonly [key: string]: MessageValue | undefined }

/**
 * A layer message: a plain object with a dotted string `type` (`chat.message`). Optional fields may be declared
 * in message types, but an explicit `undefined` value is rejected at send time (omit the key or use null).
 */
export interface Message {
  readonly type: string
  readonly [key: string]: MessageValue | undefined
}

export interface ReceiveOptions {
  /**
   * Cancels the wait. A message is either handed to this receive (it resolves) or left queued for the next
   * receive (it rejects with `signal.reason`): cancellation never loses or reorders a message.
   */
  readonly signal?: AbortSignal
}

/** Counters since the layer was created (`flush()` does not reset them). */
export interface LayerStats {
  /** Messages accepted into a channel, by `send` or by `groupSend` (one per member reached). */
  readonly sent: number
  /** Messages handed to a `receive`. */
  readonly received: number
  /**
   * Deliveries skipped because the channel was at capacity: a group send's full members (its sender is told
   * nothing). A delayed send is never dropped: it was accepted when made, and joins its queue when due even if
   * the queue is full by then.
   */
  readonly dropped: number
  /** `send` calls refused with `ChannelFullError` (the sender was told; nothing silently lost). */
  readonly rejected: number
  /** Messages that expired unread after `expiryMs`. */
  readonly expired: number
  /** `groupSend` calls. */
  readonly groupSends: number
}

export interface SendOptions {
  /**
   * Holds the message back this many milliseconds (a non-negative integer; 0 sends now). A delayed send is accepted
   * or refused when made: it is counted in `sent` then, and throws `ChannelFullError` while `capacity` delayed
   * messages already wait on the channel (the queue's own capacity does not apply while it waits). When it comes
   * due it joins the queue even if the queue is full by then: an accepted message is never dropped. Its expiry
   * counts from the moment it comes due. `flush()` drops waiting delayed messages.
   * @defaultValue 0
   */
  readonly delayMs?: number
}

export interface GroupAddOptions {
  /**
   * The position the channel last saw in this history group (from `positionOf` on its last message). When the
   * epoch matches and every message after `offset` is still kept, those messages reach the channel first, in order,
   * exactly once, then the live ones (`recovered: true`); otherwise nothing is replayed (`recovered: false`) and
   * the channel should reload its state. Only for channels of this layer instance (`newChannel()`), and only on
   * groups matching the layer option `history` (else `HistoryNotEnabledError`).
   */
  readonly recover?: StreamPosition
}

/** What `groupAdd` resolves to. */
export interface GroupAddResult {
  /** The group's current position (the position of its latest message), for a history group; else absent. */
  readonly position?: StreamPosition
  /** With `recover`: whether the messages missed since it were replayed. Absent without `recover`. */
  readonly recovered?: boolean
}

export interface GroupHistoryOptions {
  /** Only messages after this offset (oldest first); without it, the latest `limit` messages kept. */
  readonly afterOffset?: number
  /**
   * Most messages returned.
   * @defaultValue the group's history `size`
   */
  readonly limit?: number
}

/** What `groupHistory` resolves to: kept messages, oldest first, each with its `__position__`. */
export interface GroupHistory {
  readonly messages: Message[]
  /** The group's current position: the `offset` of its latest message (0 before any) and its epoch. */
  readonly position: StreamPosition
}

/** What a member says about itself in a presence list: a small JSON object (`{ user: 'ada' }`). */
export type PresenceInfo = Readonly<Record<string, MessageValue>>

/** One member of a presence list. */
export interface PresenceEntry {
  readonly channel: string
  readonly info: PresenceInfo
  /** When it joined, unix ms. */
  readonly joinedAt: number
}

/**
 * Who is in a group, for groups matching the layer option `presence`. The group itself receives
 * `{ type: 'presence.join', channel, info }` and `{ type: 'presence.leave', channel }`.
 */
export interface GroupPresence {
  /** Enters `channel` in the group's presence list with `info` (re-joining replaces its info). */
  join(group: string, channel: string, info?: PresenceInfo): Promise<void>
  /** Removes `channel` from the group's presence list; no error if it was not there. */
  leave(group: string, channel: string): Promise<void>
  /** The group's present members, oldest first. */
  list(group: string): Promise<PresenceEntry[]>
}

export interface ChannelLayer {
  /**
   * Queues `message` on `channel`, now or after `options.delayMs`. Throws `ChannelFullError` at capacity (for a
   * delayed send: while `capacity` delayed messages wait on the channel) and `InvalidOptionError` for a bad
   * `delayMs`.
   */
  send(channel: string, message: Message, options?: SendOptions): Promise<void>
  /** Resolves with the oldest unexpired message on `channel`, waiting for one if needed. */
  receive(channel: string, options?: ReceiveOptions): Promise<Message>
  /** A new process-specific channel name (`<prefix>.<layer id>!<local id>`) that only this layer receives on. */
  newChannel(prefix?: string): Promise<string>
  /**
   * Adds `channel` to `group`, or refreshes its membership (expiry counts from the last add). On a history group
   * it resolves to the group's position, and with `options.recover` replays what the channel missed.
   */
  groupAdd(group: string, channel: string, options?: GroupAddOptions): Promise<GroupAddResult>
  /**
   * A history group's kept messages, oldest first, each with its `__position__`, and the group's position. Throws
   * `HistoryNotEnabledError` for a group that matches no pattern of the layer option `history`.
   */
  groupHistory(group: string, options?: GroupHistoryOptions): Promise<GroupHistory>
  /** Removes `channel` from `group`; no error if it was not a member. */
  groupDiscard(group: string, channel: string): Promise<void>
  /** Sends `message` to every member. Never throws `ChannelFullError`: full members are skipped and counted. */
  groupSend(group: string, message: Message): Promise<void>
  /** Drops every message and group of this layer (its prefix, for Redis). */
  flush(): Promise<void>
  /** Releases the layer's resources; pending receives reject with `LayerClosedError`. Idempotent. */
  close(): Promise<void>
  /** A snapshot of this layer instance's counters. */
  stats(): LayerStats
  /**
   * Who is in a group, for groups matching the layer option `presence` (else `PresenceNotEnabledError`); the group
   * receives `presence.join` and `presence.leave`. A consumer's own entries end with it.
   */
  readonly presence: GroupPresence
}
