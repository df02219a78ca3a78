import { randomBytes } from 'node:crypto'

import { HistoryNotEnabledError } from '../../errors.js'
import type { GroupAddResult, GroupHistory, Message } from '../channel-layer.js'
import { Fifo } from '../fifo.js'
import type { HistoryRule } from '../history/history-options.js'
import type { HistoryQuery } from '../history/history-requests.js'
import { POSITION_KEY, type StreamPosition } from '../history/positions.js'

/** One kept message of a history group. */
interface Kept {
  readonly stream: Stream
  readonly offset: number
  /** `ttlMs` after it was sent. */
  readonly expiresAt: number
  /** The message as members got it: frozen, with its frozen `__position__`. */
  readonly message: Message
  /** Still in its stream's `kept`; false once trimmed (by `size`, `ttlMs` or a lost position). */
  live: boolean
}

/** A history group's position and kept messages. */
interface Stream {
  readonly group: string
  readonly lane: Lane
  readonly epoch: string
  /** The offset of the latest message; 0 before any. */
  offset: number
  /** Kept messages, oldest first; their offsets are consecutive and the last is `offset`. */
  readonly kept: Fifo<Kept>
  /** When the position is lost: `max(ttlMs, groupExpiryMs)` after the last message or `groupAdd`. */
  expiresAt: number
}

/**
 * The groups of one `history` rule. A rule has one `ttlMs`, so its messages in send order are also in expiry
 * order: `arrivals` lets `purgeExpired` drop expired messages in O(1) each, as the layer does for queued ones.
 */
interface Lane {
  readonly rule: HistoryRule
  /** The position's lifetime: `max(ttlMs, groupExpiryMs)`. */
  readonly lifetimeMs: number
  /** Kept messages of every group of this rule in send order; trimmed ones stay until purged or compacted. */
  arrivals: Fifo<Kept>
  /** Live entries in `arrivals`. */
  live: number
}

/** What `groupAdd` on a history group does: its result, and the messages to replay into the channel first. */
export interface HistoryJoin {
  readonly result: GroupAddResult
  readonly replay: readonly Message[]
}

/** Trimmed entries `arrivals` may hold beyond twice the live ones before it is compacted. */
const COMPACT_SLACK = 1024

/**
 * The in-memory layer's group history (layer option `history`, issue 16). A history group keeps its last `size`
 * messages, each for at most `ttlMs`, and a position: `offset` (+1 per message, the first is 1) and `epoch`, a
 * random string naming this run of offsets. The position is lost `max(ttlMs, groupExpiryMs)` after the group's
 * last message or `groupAdd`, and by `flush()`; the next send, add or history read starts a new epoch at offset 0.
 *
 * Memory stays bounded: expired messages go in O(1) each on every layer call (`purgeExpired`), `size` trims on
 * every send, and lost positions go in last-touch order. Positions of rules with different lifetimes share that
 * order, so a position may outlive its lifetime in memory by at most the longest lifetime; every read checks
 * `expiresAt` itself, so a lost position is never used.
 *
 * @example
 * ```ts
 * const history = new MemoryHistory(options.history, options.groupExpiryMs)
 * const stamped = history.record('chat.lobby', prepared.message) // carries __position__
 * ```
 */
export class MemoryHistory {
  private readonly lanes: readonly Lane[]
  /** Positions in last-touch order. */
  private readonly streams = new Map<string, Stream>()

  constructor(rules: readonly HistoryRule[], groupExpiryMs: number) {
    this.lanes = rules.map((rule) => ({
      rule,
      lifetimeMs: Math.max(rule.ttlMs, groupExpiryMs),
      arrivals: new Fifo<Kept>(),
      live: 0,
    }))
  }

  /**
   * Records a `groupSend` message of a history group and returns it stamped with its `__position__` (one frozen
   * object for every member and for the history); any other group's message is returned as is, at the cost of
   * one length check when the layer has no `history` option.
   */
  record(group: string, message: Message): Message {
    if (this.lanes.length === 0) return message
    const lane = this.laneFor(group)
    if (lane === undefined) return message
    const now = Date.now()
    const stream = this.streamOf(group, lane, now)
    this.touch(stream, now)
    const offset = ++stream.offset
    const position = Object.freeze({ group, offset, epoch: stream.epoch })
    const stamped: Message = Object.freeze({ ...message, [POSITION_KEY]: position })
    const kept: Kept = { stream, offset, expiresAt: now + lane.rule.ttlMs, message: stamped, live: true }
    stream.kept.push(kept)
    lane.arrivals.push(kept)
    lane.live++
    while (stream.kept.length > lane.rule.size) this.trimHead(stream)
    if (lane.arrivals.length > 2 * lane.live + COMPACT_SLACK) compact(lane)
    return stamped
  }

  /**
   * `groupAdd` on `group`: undefined for a group without history (`HistoryNotEnabledError` if `recover` was asked
   * there). Otherwise the add refreshes the position's lifetime and resolves to it; with `recover`, when the epoch
   * matches and every message after `recover.offset` is still kept, those are the replay (`recovered: true`, the
   * replay empty when nothing was missed), else nothing is (`recovered: false`). An offset past the current one
   * is not recovered: it belongs to a history this layer does not have.
   */
  join(group: string, recover: StreamPosition | undefined, now = Date.now()): HistoryJoin | undefined {
    const lane = this.lanes.length === 0 ? undefined : this.laneFor(group)
    if (lane === undefined) {
      if (recover !== undefined) throw notEnabled(group, 'recover')
      return undefined
    }
    const stream = this.streamOf(group, lane, now)
    this.touch(stream, now)
    const position = positionOf(stream)
    if (recover === undefined) return { result: { position }, replay: [] }
    const first = firstOffset(stream)
    if (recover.epoch !== stream.epoch || recover.offset > stream.offset || recover.offset + 1 < first) {
      return { result: { position, recovered: false }, replay: [] }
    }
    return { result: { position, recovered: true }, replay: slice(stream, recover.offset + 1 - first, Infinity) }
  }

  /**
   * `groupHistory`: kept messages oldest first, the latest `limit` or, with `afterOffset`, the first `limit` after
   * it (none when it is at or past the current offset; from the oldest kept when older ones are gone: the caller
   * sees the gap in the first message's offset). Reading a group with no position starts one (new epoch, offset
   * 0, lifetime from now) so the position returned stays valid; reading does not extend an existing one.
   */
  read(group: string, query: HistoryQuery, now = Date.now()): GroupHistory {
    const lane = this.lanes.length === 0 ? undefined : this.laneFor(group)
    if (lane === undefined) throw notEnabled(group, 'groupHistory')
    const stream = this.streamOf(group, lane, now)
    const count = stream.kept.length
    const start =
      query.afterOffset === undefined
        ? Math.max(0, count - query.limit)
        : Math.min(count, Math.max(0, query.afterOffset + 1 - firstOffset(stream)))
    return { messages: slice(stream, start, start + query.limit), position: positionOf(stream) }
  }

  /** Drops messages past `ttlMs` (O(1) each, per rule) and positions past their lifetime (see the class note). */
  purgeExpired(now: number): void {
    for (const lane of this.lanes) {
      for (let head = lane.arrivals.peek(); head !== undefined && head.expiresAt <= now; head = lane.arrivals.peek()) {
        lane.arrivals.shift()
        // A live entry is its stream's oldest kept one: every older one of that stream left `arrivals` before it.
        if (head.live) this.trimHead(head.stream)
      }
    }
    for (const stream of this.streams.values()) {
      if (stream.expiresAt > now) break
      this.lose(stream)
    }
  }

  /** Loses every position and message (`flush()`, `close()`): the next use starts new epochs. */
  clear(): void {
    for (const stream of [...this.streams.values()]) this.lose(stream)
    for (const lane of this.lanes) lane.arrivals.clear()
  }

  private laneFor(group: string): Lane | undefined {
    for (const lane of this.lanes) if (lane.rule.pattern.test(group)) return lane
    return undefined
  }

  /** The group's live position with its expired messages trimmed, or a new one (new epoch, offset 0). */
  private streamOf(group: string, lane: Lane, now: number): Stream {
    let stream = this.streams.get(group)
    if (stream !== undefined && stream.expiresAt <= now) {
      this.lose(stream)
      stream = undefined
    }
    if (stream === undefined) {
      stream = { group, lane, epoch: newEpoch(), offset: 0, kept: new Fifo(), expiresAt: now + lane.lifetimeMs }
      this.streams.set(group, stream)
      return stream
    }
    for (let head = stream.kept.peek(); head !== undefined && head.expiresAt <= now; head = stream.kept.peek()) {
      this.trimHead(stream)
    }
    return stream
  }

  /** A message or `groupAdd`: the position lives `lifetimeMs` from now, and moves to the end of the touch order. */
  private touch(stream: Stream, now: number): void {
    stream.expiresAt = now + stream.lane.lifetimeMs
    this.streams.delete(stream.group)
    this.streams.set(stream.group, stream)
  }

  private trimHead(stream: Stream): void {
    const kept = stream.kept.shift()
    if (kept === undefined) return
    kept.live = false
    stream.lane.live--
  }

  private lose(stream: Stream): void {
    while (stream.kept.length > 0) this.trimHead(stream)
    this.streams.delete(stream.group)
  }
}

function positionOf(stream: Stream): StreamPosition {
  return Object.freeze({ offset: stream.offset, epoch: stream.epoch })
}

/** The offset of the oldest kept message (`offset + 1` when none is kept). */
function firstOffset(stream: Stream): number {
  return stream.offset - stream.kept.length + 1
}

function slice(stream: Stream, start: number, end: number): Message[] {
  const messages: Message[] = []
  const stop = Math.min(end, stream.kept.length)
  for (let index = start; index < stop; index++) {
    const kept = stream.kept.at(index)
    if (kept !== undefined) messages.push(kept.message)
  }
  return messages
}

/** Keeps the live entries of `arrivals` only, in order: trimmed ones must not pile up between purges. */
function compact(lane: Lane): void {
  const arrivals = new Fifo<Kept>()
  for (let kept = lane.arrivals.shift(); kept !== undefined; kept = lane.arrivals.shift()) {
    if (kept.live) arrivals.push(kept)
  }
  lane.arrivals = arrivals
}

/** 48 random bits as 8 base64url characters: a new epoch never repeats an old one in practice. */
function newEpoch(): string {
  return randomBytes(6).toString('base64url')
}

function notEnabled(group: string, what: string): HistoryNotEnabledError {
  return new HistoryNotEnabledError(
    `Group "${group}" keeps no history, so \`${what}\` cannot apply: add a pattern that matches it to the layer ` +
      "option `history`, e.g. { 'chat.*': { size: 100, ttlMs: 300_000 } }, on every process sharing the group",
  )
}
