import { PresenceFullError, PresenceNotEnabledError } from '../../errors.js'
import type { Message } from '../channel-layer.js'
import { preparePresenceInfo } from '../message-validation.js'
import { assertChannelName, assertGroupName } from '../names.js'
import { hasPresence, type PresenceInfo, type ResolvedPresenceOptions } from './presence-types.js'

/**
 * The checks every backend's `presence` makes before touching its store, in this order: names (as `groupAdd`),
 * then the group's presence (`PresenceNotEnabledError`), then `info` (`preparePresenceInfo`).
 */
export function assertPresenceGroup(options: ResolvedPresenceOptions, group: string, channel?: string): void {
  assertGroupName(group)
  if (channel !== undefined) assertChannelName(channel)
  if (!hasPresence(options, group)) {
    throw new PresenceNotEnabledError(
      `Group "${group}" has no presence: add a pattern matching it to the layer option \`presence\` (such as ['chat.*'])`,
    )
  }
}

/** Validates a `join`'s arguments; resolves to the info to keep (a frozen copy, `{}` when absent). */
export function presenceJoinInfo(
  options: ResolvedPresenceOptions,
  group: string,
  channel: string,
  info: unknown,
): PresenceInfo {
  assertPresenceGroup(options, group, channel)
  return preparePresenceInfo(info, options.maxPresenceInfoBytes)
}

export function presenceFull(group: string, maxPresence: number): PresenceFullError {
  return new PresenceFullError(
    `Group "${group}" already has ${maxPresence} present members (\`maxPresence\`); leave stale ones or raise the limit`,
  )
}

/** The message a presence group receives after a join (re-joins included). */
export function joinEvent(channel: string, info: PresenceInfo): Message {
  return { type: 'presence.join', channel, info }
}

/** The message a presence group receives after a member left (only if it was present). */
export function leaveEvent(channel: string): Message {
  return { type: 'presence.leave', channel }
}
