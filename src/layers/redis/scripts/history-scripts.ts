// Typed wrappers of the history scripts: history-send.lua, history-join.lua, history-read.lua and
// history-lease.lua. Each builds KEYS from keys.ts and KEYS and ARGV in the order its script's header states.

import type { HistorySettings } from '../../history/history-options.js'
import { historyMembersName, type RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'

/** What every history script needs to know of a group. */
export interface HistoryGroupArgs {
  readonly group: string
  readonly settings: HistorySettings
  /** How long a group's position outlives its last message or join. */
  readonly positionTtlMs: number
  /** The epoch the group gets if it has none. */
  readonly epochCandidate: string
  readonly nowMs: number
}

export interface HistorySendArgs extends HistoryGroupArgs {
  readonly payload: Buffer
  readonly proxy: string
  readonly groupExpiryMs: number
  readonly staleAfterMs: number
  readonly expiryMs: number
  readonly queueTtlMs: number
  readonly processQueueCapacity: number
}

export interface HistorySendReply {
  readonly offset: number
  readonly epoch: string
  readonly reached: number
  readonly dropped: number
  /** Normal channels among the members: the sequenced payload goes to their queues. */
  readonly plain: readonly string[]
  /** Queues that get channels_redis' format without a position (Django members, processes not known live). */
  readonly others: readonly { readonly queue: string; readonly members: readonly string[] }[]
}

/** history-send.lua: sequences, keeps and delivers one history group message. */
export async function runHistorySend(
  client: RedisClient,
  keys: RedisKeys,
  args: HistorySendArgs,
): Promise<HistorySendReply> {
  const { group } = args
  const [offset, epoch, reached, dropped, plain, flatOthers] = (await SCRIPTS.historySend.runBuffer(
    client,
    [
      keys.group(historyMembersName(group)),
      keys.group(group),
      keys.registry,
      keys.history(group),
      keys.historyPosition(group),
    ],
    [
      keys.queuePrefix,
      String(args.nowMs / 1000),
      args.nowMs,
      args.groupExpiryMs,
      args.staleAfterMs,
      args.payload,
      String(args.expiryMs / 1000),
      args.queueTtlMs,
      args.processQueueCapacity,
      args.settings.size,
      args.settings.ttlMs,
      args.positionTtlMs,
      args.epochCandidate,
      args.proxy,
    ],
  )) as [number, Buffer, number, number, Buffer[], (Buffer | Buffer[])[]]
  const others: { queue: string; members: string[] }[] = []
  for (let i = 0; i + 1 < flatOthers.length; i += 2) {
    const members = flatOthers[i + 1] as Buffer[]
    others.push({ queue: String(flatOthers[i]), members: members.map(String) })
  }
  return {
    offset,
    epoch: epoch.toString('latin1'),
    reached,
    dropped,
    plain: plain.map(String),
    others,
  }
}

export interface HistoryJoinArgs extends HistoryGroupArgs {
  readonly channel: string
  readonly proxy: string
  readonly groupExpiryMs: number
  readonly recover: { readonly offset: number; readonly epoch: string } | undefined
}

export interface HistoryJoinReply {
  readonly offset: number
  readonly epoch: string
  /** undefined when no recovery was asked. */
  readonly recovered: boolean | undefined
  /** With `recovered`: the payloads of every offset after the one recovered from, oldest first. */
  readonly missed: readonly Buffer[]
}

/** history-join.lua: adds a membership and, with `recover`, reads what the channel missed, atomically. */
export async function runHistoryJoin(
  client: RedisClient,
  keys: RedisKeys,
  args: HistoryJoinArgs,
): Promise<HistoryJoinReply> {
  const { group, recover } = args
  const name = historyMembersName(group)
  const [offset, epoch, recovered, ...missed] = (await SCRIPTS.historyJoin.runBuffer(
    client,
    [
      keys.group(name),
      keys.ownerGroups(args.channel),
      keys.group(group),
      keys.history(group),
      keys.historyPosition(group),
    ],
    [
      args.channel,
      String(args.nowMs / 1000),
      args.nowMs,
      args.groupExpiryMs,
      name,
      args.proxy,
      args.epochCandidate,
      args.positionTtlMs,
      args.settings.size,
      args.settings.ttlMs,
      recover === undefined ? '0' : '1',
      recover?.offset ?? 0,
      recover?.epoch ?? '',
    ],
  )) as [number, Buffer, number, ...Buffer[]]
  return {
    offset,
    epoch: epoch.toString('latin1'),
    recovered: recovered === -1 ? undefined : recovered === 1,
    missed,
  }
}

export interface HistoryReadArgs extends HistoryGroupArgs {
  readonly afterOffset: number | undefined
  readonly limit: number
}

/** history-read.lua: a group's kept payloads (oldest first) and its position, read together. */
export async function runHistoryRead(
  client: RedisClient,
  keys: RedisKeys,
  args: HistoryReadArgs,
): Promise<{ readonly offset: number; readonly epoch: string; readonly payloads: readonly Buffer[] }> {
  const { group } = args
  const [offset, epoch, ...payloads] = (await SCRIPTS.historyRead.runBuffer(
    client,
    [keys.history(group), keys.historyPosition(group)],
    [
      args.epochCandidate,
      args.positionTtlMs,
      args.settings.size,
      args.settings.ttlMs,
      args.nowMs,
      args.afterOffset ?? '',
      args.limit,
    ],
  )) as [number, Buffer, ...Buffer[]]
  return { offset, epoch: epoch.toString('latin1'), payloads }
}

/** history-lease.lua: takes or renews the history pump's lease; resolves whether `token` holds it. */
export async function runHistoryLease(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly token: string; readonly leaseMs: number },
): Promise<boolean> {
  return (await SCRIPTS.historyLease.run(client, [keys.historyPumpLease], [args.token, args.leaseMs])) === 1
}
