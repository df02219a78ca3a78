import { HistoryNotEnabledError, InvalidOptionError } from '../errors.js'
import type { ChannelLayer, GroupAddResult, Message, PresenceInfo } from '../layers/channel-layer.js'
import { assertStreamPosition, POSITION_KEY, type StreamPosition } from '../layers/history/positions.js'
import { POSITION_PARAM, RECOVERY_MESSAGE_TYPE } from '../protocol/recovery-protocol.js'

/** Options of a consumer's `joinGroup`. */
export interface JoinGroupOptions {
  /**
   * Replay what the client missed in this history group. `true` takes the position the browser client handed back
   * for the group on reconnect (docs/topics/recovery-protocol.md), if any; a `{ offset, epoch }` uses that one.
   * The page is told how it went with a `switchyard.recovery` frame, sent before any message of the group.
   * @defaultValue false
   */
  readonly recover?: boolean | StreamPosition
  /**
   * Enter the group's presence list with this info (`{ user: 'ada' }`); the group hears `presence.join`. Joining
   * again replaces the info. The presence entry is left on disconnect, as the group is.
   * @defaultValue not in the presence list
   */
  readonly presence?: PresenceInfo
}

/** What `joinGroup` resolves to: the group's position (history groups) and, with `recover`, whether it recovered. */
export type JoinGroupResult = GroupAddResult

/** A position the client handed back for one group, or why none is used. */
export type HandedBack =
  | { readonly kind: 'none' }
  | { readonly kind: 'position'; readonly position: StreamPosition }
  | { readonly kind: 'invalid'; readonly error: InvalidOptionError }

const NONE: HandedBack = Object.freeze({ kind: 'none' })
/** An offset as the client writes it: decimal digits, a safe integer (`assertStreamPosition` checks the range). */
const OFFSET_TEXT = /^\d{1,16}$/

/**
 * The position the client handed back for `group` in the socket URL's query (`__position__=<group>:<offset>:<epoch>`,
 * once per group; the first one for a group counts). Untrusted: a malformed one is `invalid`, never thrown.
 */
export function handedBackPosition(queryString: string, group: string): HandedBack {
  if (!queryString.includes(POSITION_PARAM)) return NONE
  const prefix = `${group}:`
  const value = new URLSearchParams(queryString).getAll(POSITION_PARAM).find((entry) => entry.startsWith(prefix))
  if (value === undefined) return NONE
  const rest = value.slice(prefix.length)
  const colon = rest.indexOf(':')
  const offsetText = colon === -1 ? rest : rest.slice(0, colon)
  const epoch = colon === -1 ? undefined : rest.slice(colon + 1)
  try {
    const offset = OFFSET_TEXT.test(offsetText) ? Number(offsetText) : offsetText
    return { kind: 'position', position: assertStreamPosition(`${POSITION_PARAM} of ${group}`, { offset, epoch }) }
  } catch (error) {
    if (error instanceof InvalidOptionError) return { kind: 'invalid', error }
    throw error
  }
}

/** What joining did: the result for the consumer and, with `recover`, the frame for the page. */
export interface JoinedGroup {
  readonly result: JoinGroupResult
  readonly notice: Message | undefined
  /** The handed-back position that was malformed (it was ignored, as if it had expired). */
  readonly invalid: InvalidOptionError | undefined
}

/** The parts of a consumer that joining a group uses. */
export interface Joiner {
  readonly channelLayer: ChannelLayer
  readonly channelName: string
  /** The socket URL's query, where the client hands positions back. */
  readonly queryString: string
}

/**
 * Joins `group` (recovering and entering presence as asked): `groupAdd` first, so the channel is a member before
 * its `presence.join` goes out and hears it too, then the presence list.
 */
export async function joinGroupAs(joiner: Joiner, group: string, options: JoinGroupOptions): Promise<JoinedGroup> {
  const { recover, presence } = checkJoinOptions(options)
  const handedBack: HandedBack =
    recover === undefined || recover === false
      ? NONE
      : recover === true
        ? handedBackPosition(joiner.queryString, group)
        : { kind: 'position', position: recover }
  const from = handedBack.kind === 'position' ? handedBack.position : undefined
  const layer = joiner.channelLayer
  const added = await layer.groupAdd(group, joiner.channelName, from === undefined ? undefined : { recover: from })
  const recovering = recover !== undefined && recover !== false
  if (recovering && added.position === undefined) {
    throw new HistoryNotEnabledError(
      `joinGroup("${group}", { recover }) needs a group with history: add a pattern matching it to the layer ` +
        'option `history`, e.g. `history: { "chat.*": { size: 100, ttlMs: 300_000 } }`',
    )
  }
  if (presence !== undefined) await layer.presence.join(group, joiner.channelName, presence)
  const recovered = from !== undefined ? added.recovered === true : handedBack.kind === 'invalid' ? false : undefined
  const result: JoinGroupResult = {
    ...(added.position === undefined ? {} : { position: added.position }),
    ...(recovered === undefined ? {} : { recovered }),
  }
  return {
    result,
    notice: recovering ? recoveryNotice(group, result) : undefined,
    invalid: handedBack.kind === 'invalid' ? handedBack.error : undefined,
  }
}

/**
 * The `switchyard.recovery` frame: with `recovered: true` no position (the replayed messages carry theirs, and the
 * page must not skip past them); otherwise the group's current position, where the page starts again.
 */
function recoveryNotice(group: string, result: JoinGroupResult): Message {
  const { position, recovered } = result
  return {
    type: RECOVERY_MESSAGE_TYPE,
    group,
    ...(recovered === undefined ? {} : { recovered }),
    ...(recovered === true || position === undefined
      ? {}
      : { [POSITION_KEY]: { group, offset: position.offset, epoch: position.epoch } }),
  }
}

/** Checks what an untyped caller may pass. */
function checkJoinOptions(options: JoinGroupOptions): JoinGroupOptions {
  const given: unknown = options
  if (typeof given !== 'object' || given === null) {
    throw new InvalidOptionError('joinGroup options', 'an object { recover?, presence? }', given)
  }
  const { recover, presence } = given as Readonly<Record<string, unknown>>
  if (presence !== undefined && (typeof presence !== 'object' || presence === null || Array.isArray(presence))) {
    throw new InvalidOptionError('joinGroup presence', 'an object of JSON values, e.g. { user: "ada" }', presence)
  }
  return {
    recover:
      recover === undefined || typeof recover === 'boolean'
        ? recover
        : assertStreamPosition('joinGroup recover', recover),
    presence: presence as PresenceInfo | undefined,
  }
}

/**
 * Recovery frames of groups joined before the consumer accepted, kept off the consumer (a field on every idle
 * connection) and only for the moment between its `joinGroup` and its `accept()`.
 */
const deferred = new WeakMap<object, Message[]>()

/** Keeps `notice` until `owner` accepts the socket. */
export function deferNotice(owner: object, notice: Message): void {
  const notices = deferred.get(owner)
  if (notices === undefined) deferred.set(owner, [notice])
  else notices.push(notice)
}

/** The notices kept for `owner`, in order, now forgotten. */
export function takeDeferredNotices(owner: object): readonly Message[] {
  const notices = deferred.get(owner)
  if (notices === undefined) return []
  deferred.delete(owner)
  return notices
}
