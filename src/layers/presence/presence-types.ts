import { InvalidOptionError } from '../../errors.js'
import { globToRegExp, positiveInteger } from '../option-values.js'

// The interfaces live with ChannelLayer (its `presence` is one), so the contract has no import cycle.
export type { GroupPresence, PresenceEntry, PresenceInfo } from '../channel-layer.js'

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
