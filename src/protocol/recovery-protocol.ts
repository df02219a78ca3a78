/**
 * The recovery protocol between `switchyard-channels/client` and a consumer that joins history groups with
 * `joinGroup(group, { recover: true })` (docs/topics/recovery-protocol.md). Shared by the browser client and the
 * server, so it imports nothing.
 *
 * 1. Every message a consumer forwards from a history group carries `__position__: { group, offset, epoch }`; the
 *    client keeps the last one per group.
 * 2. On reconnect the client adds one query parameter per group to the socket URL:
 *    `__position__=<group>:<offset>:<epoch>` (a group name holds no `:`; the epoch is the rest). The query reaches
 *    the consumer's `connect()` in `scope.queryString`, before it joins anything.
 * 3. `joinGroup(group, { recover: true })` replays what the group sent after that position and tells the page how
 *    it went with one `switchyard.recovery` frame, sent before any message of the group.
 */

/** The query parameter that hands a group's last position back, once per group: `<group>:<offset>:<epoch>`. */
export const POSITION_PARAM = '__position__'

/** The type of the frame that tells the page how joining a group with recovery went. */
export const RECOVERY_MESSAGE_TYPE = 'switchyard.recovery'

/**
 * Positions the client hands back at most (the most recently updated groups): a URL has to fit in the server's
 * request line, 16 KiB in Node, and a position takes up to about 200 characters.
 */
export const MAX_HANDED_BACK_POSITIONS = 32

/**
 * What a consumer sends the page for each group it joined with `recover`, before any message of that group:
 *
 * - `recovered: true`: every message the page missed since its position follows, in order, then the live ones.
 * - `recovered: false`: the messages it missed are gone (history overflowed or expired, or the epoch changed): the
 *   page should reload its state. `__position__` is the group's current position, where the page starts again.
 * - no `recovered`: the page handed back no position for this group (its first connection): nothing to recover.
 *   `__position__` is where it starts.
 */
export interface RecoveryMessage {
  type: 'switchyard.recovery'
  group: string
  recovered?: boolean
  /** The group's current position; absent with `recovered: true` (the replayed messages carry theirs). */
  __position__?: MessagePosition
}

/** A message's place in its group's history, as `__position__` carries it (the layer's `MessagePosition`). */
export interface MessagePosition {
  group: string
  offset: number
  epoch: string
}
