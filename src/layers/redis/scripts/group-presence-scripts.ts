// Typed wrappers of the group presence scripts (issue 16): presence-join.lua, presence-leave.lua,
// presence-list.lua and presence-prune.lua. Each builds KEYS from keys.ts and KEYS and ARGV in the order its
// script's header states.

import { isProcessSpecific } from '../../names.js'
import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'

export interface PresenceJoinArgs {
  readonly group: string
  readonly channel: string
  readonly nowMs: number
  readonly infoJson: string
  readonly maxPresence: number
  readonly groupExpiryMs: number
}

/** presence-join.lua: enters (or re-enters) a channel unless the list is full; resolves what happened. */
export async function runPresenceJoin(
  client: RedisClient,
  keys: RedisKeys,
  args: PresenceJoinArgs,
): Promise<{ readonly state: 'joined' | 'rejoined' | 'full'; readonly joinedAt: number }> {
  const hash = keys.presence(args.group)
  const [state, joinedAt] = (await SCRIPTS.presenceJoin.run(
    client,
    [hash, isProcessSpecific(args.channel) ? keys.ownerPresence(args.channel) : hash],
    [args.channel, args.nowMs, args.infoJson, args.maxPresence, args.group, args.groupExpiryMs],
  )) as ['joined' | 'rejoined' | 'full', number]
  return { state, joinedAt }
}

/** presence-leave.lua: resolves whether the channel was present. */
export async function runPresenceLeave(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly group: string; readonly channel: string },
): Promise<boolean> {
  return (await SCRIPTS.presenceLeave.run(client, [keys.presence(args.group)], [args.channel])) === 1
}

/** What decides whether an entry is stale (prelude.lua `presenceLive`). */
export interface PresenceLiveness {
  readonly nowMs: number
  readonly staleAfterMs: number
  readonly groupExpiryMs: number
}

export interface PresenceListReply {
  /** Entries left out as stale: when above 0, prune. */
  readonly stale: number
  /** Live entries as stored: channel and `<joinedAt> <refreshedAt> <info JSON>`. */
  readonly entries: readonly (readonly [channel: string, value: string])[]
}

/** presence-list.lua: one bounded step of reading the live entries of a group's list. */
export async function runPresenceList(
  client: RedisClient,
  keys: RedisKeys,
  args: PresenceLiveness & { readonly group: string; readonly cursor: string; readonly count: number },
): Promise<PresenceListReply & { readonly cursor: string }> {
  const [cursor, stale, ...flat] = (await SCRIPTS.presenceList.run(
    client,
    [keys.presence(args.group), keys.registry],
    [args.nowMs, args.staleAfterMs, args.groupExpiryMs, keys.queuePrefix, args.cursor, args.count],
  )) as [string, number, ...string[]]
  const entries: (readonly [string, string])[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push([String(flat[i]), String(flat[i + 1])])
  return { cursor, stale, entries }
}

export interface PresencePruneArgs extends PresenceLiveness {
  readonly group: string
  readonly cursor: string
  readonly count: number
  /** HSCAN MATCH: '*', or one process's entries. */
  readonly match: string
}

/** presence-prune.lua: one HSCAN step removing stale entries; resolves the next cursor and who was removed. */
export async function runPresencePrune(
  client: RedisClient,
  keys: RedisKeys,
  args: PresencePruneArgs,
): Promise<{ readonly cursor: string; readonly removed: readonly string[] }> {
  const [cursor, ...removed] = (await SCRIPTS.presencePrune.run(
    client,
    [keys.presence(args.group), keys.registry],
    [args.cursor, args.count, args.nowMs, args.staleAfterMs, args.groupExpiryMs, keys.queuePrefix, args.match],
  )) as [string, ...string[]]
  return { cursor, removed }
}
