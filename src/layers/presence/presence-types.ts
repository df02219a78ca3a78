import { InvalidOptionError } from '../../errors.js'
import type { MessageValue } from '../channel-layer.js'
import { globToRegExp, positiveInteger } from '../option-values.js'

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

/** Presence options every backend accepts (beside `history`). */
export interface PresenceLayerOptions {
  /**
   * Groups with presence, by pattern (globs as `channelCapacity`): `['chat.*']`.
   * @defaultValue none
   */
  readonly presence?: readonly string[]
  /**
   * Members one group's presence list holds; `presence.join` beyond it throws `PresenceFullError`.
   * @defaultValue 10_000
   */
  readonly maxPresence?: number
  /**
   * Largest presence `info`, measured as its msgpack encoding, in bytes.
   * @defaultValue 1_024
   */
  readonly maxPresenceInfoBytes?: number
}

export interface ResolvedPresenceOptions {
  readonly presence: readonly RegExp[]
  readonly maxPresence: number
  readonly maxPresenceInfoBytes: number
}

export const PRESENCE_OPTION_KEYS = ['presence', 'maxPresence', 'maxPresenceInfoBytes']

export function resolvePresenceOptions(given: Readonly<Record<string, unknown>>): ResolvedPresenceOptions {
  const patterns = given.presence
  if (patterns !== undefined && (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string' || p === ''))) {
    throw new InvalidOptionError('presence', "an array of group patterns such as ['chat.*']", patterns)
  }
  return Object.freeze({
    presence: Object.freeze(((patterns ?? []) as readonly string[]).map(globToRegExp)),
    maxPresence: positiveInteger('maxPresence', given.maxPresence, 10_000),
    maxPresenceInfoBytes: positiveInteger('maxPresenceInfoBytes', given.maxPresenceInfoBytes, 1_024),
  })
}

/** Whether `group` has presence under the resolved options. */
export function hasPresence(options: ResolvedPresenceOptions, group: string): boolean {
  return options.presence.some((pattern) => pattern.test(group))
}
