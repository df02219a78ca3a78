import type { RedisTaskStore } from './tasks/redis-task-store.js'
import { compareText, groupSnapshot, inspectLimit } from '../snapshot-parts.js'
import type { ChannelSnapshot, InspectOptions, LayerSnapshot } from '../snapshot.js'
import type { LayerStats } from '../channel-layer.js'
import { groupOfEntry, type RedisKeys } from './keys.js'
import type { RedisShard } from './redis-shard.js'
import { PROXY_PREFIX } from './history/history-wire.js'
import { escapeGlob, pipelineResults, scanKeys } from './scan-keys.js'

export interface RedisInspectContext {
  readonly shards: readonly RedisShard[]
  readonly groupExpiryMs: number
  readonly tasks: RedisTaskStore
  readonly stats: LayerStats
}

/** What the SCAN found on one shard. */
interface Found {
  readonly channels: Set<string>
  readonly groups: Set<string>
}

/**
 * The Redis layer's snapshot, read across processes: channels and groups are found by SCAN over the prefix
 * (sorted sets only; at most `maxChannels`/`maxGroups`), then counted with one pipeline per shard. A channel is
 * anything with a queue (`<prefix><name>`), claims, delayed messages or dead letters; members of a group count
 * only while their last `groupAdd` is younger than `groupExpiryMs` (as group sends see them).
 */
export async function inspectRedis(ctx: RedisInspectContext, options?: InspectOptions): Promise<LayerSnapshot> {
  const maxChannels = inspectLimit('maxChannels', options?.maxChannels)
  const maxGroups = inspectLimit('maxGroups', options?.maxGroups)
  const allChannels = new Set<string>()
  const allGroups = new Set<string>()
  // Set inside the SCAN callback, which TypeScript's narrowing cannot see: an object, not a `let`.
  const cut = { truncated: false }
  const perShard: Found[] = []
  for (const shard of ctx.shards) {
    const found: Found = { channels: new Set(), groups: new Set() }
    perShard.push(found)
    await scanKeys(shard, `${escapeGlob(shard.keys.prefix)}*`, 'zset', (keys) => {
      for (const key of keys) {
        const kind = classify(shard.keys, key)
        if (kind === undefined) continue
        const [target, all, max] =
          kind.group === undefined ? [found.channels, allChannels, maxChannels] : [found.groups, allGroups, maxGroups]
        const name = kind.group ?? kind.channel
        if (all.has(name)) target.add(name)
        else if (all.size < max) {
          all.add(name)
          target.add(name)
        } else cut.truncated = true
      }
      return allChannels.size < maxChannels || allGroups.size < maxGroups
    })
  }
  const channels = new Map<string, ChannelSnapshot>()
  const members = new Map<string, string[]>()
  for (const [index, shard] of ctx.shards.entries()) {
    const found = perShard[index]
    if (found === undefined) continue
    for (const channel of await countChannels(ctx, shard, [...found.channels])) {
      channels.set(channel.name, sum(channels.get(channel.name), channel))
    }
    for (const [name, names] of await readGroups(ctx, shard, [...found.groups])) {
      // A history group's Switchyard members live apart (`<group>:members`); its own set holds a proxy member.
      const group = groupOfEntry(name)
      const real = names.filter((member) => !member.startsWith(PROXY_PREFIX))
      members.set(group, [...(members.get(group) ?? []), ...real])
    }
  }
  return {
    takenAt: Date.now(),
    channels: [...channels.values()].sort((a, b) => compareText(a.name, b.name)),
    groups: [...members]
      .sort(([a], [b]) => compareText(a, b))
      .map(([name, names]) => groupSnapshot(name, new Set(names))),
    workers: await ctx.tasks.listWorkers(),
    servers: await ctx.tasks.listServers(),
    stats: ctx.stats,
    ...(cut.truncated ? { truncated: true } : {}),
  }
}

/** A channel or group a key belongs to; undefined for Switchyard's other bookkeeping and foreign keys. */
function classify(keys: RedisKeys, key: string): { channel: string; group?: string } | undefined {
  if (!key.startsWith(keys.prefix)) return undefined
  if (key.startsWith(keys.groupPrefix)) {
    const group = key.slice(keys.groupPrefix.length)
    return group === '' ? undefined : { channel: '', group }
  }
  const own = keys.bookkeepingPrefix
  if (key.startsWith(own)) {
    // Task bookkeeping names its channel after the kind: `inflight:<channel>`, `delayed:<channel>`, `dead:<channel>`.
    const match = /^(?:inflight|delayed|dead):([^:]+)$/.exec(key.slice(own.length))
    return match?.[1] === undefined ? undefined : { channel: match[1] }
  }
  const channel = keys.queueName(key)
  // Channel names never contain `:`: such a key belongs to something else sharing the prefix. The history proxy's
  // queue is Switchyard's plumbing, not a channel anyone uses.
  return channel === '' || channel.includes(':') || channel.startsWith(PROXY_PREFIX) ? undefined : { channel }
}

async function countChannels(
  ctx: RedisInspectContext,
  shard: RedisShard,
  names: readonly string[],
): Promise<ChannelSnapshot[]> {
  if (names.length === 0) return []
  const { keys } = shard
  const results = await shard.call(
    async (client) => {
      const pipeline = client.pipeline()
      for (const name of names) {
        pipeline.zcard(keys.queue(name))
        pipeline.zcard(keys.inflight(name))
        pipeline.zcard(keys.delayed(name))
        pipeline.zcard(keys.deadLetters(name))
      }
      return pipelineResults(await pipeline.exec())
    },
    { idempotent: true },
  )
  return names.map((name, i) => ({
    name,
    backlog: Number(results[i * 4]),
    inFlight: Number(results[i * 4 + 1]),
    delayed: Number(results[i * 4 + 2]),
    deadLetters: Number(results[i * 4 + 3]),
  }))
}

/** Each group's live members (last add within `groupExpiryMs`). */
async function readGroups(
  ctx: RedisInspectContext,
  shard: RedisShard,
  groups: readonly string[],
): Promise<Map<string, string[]>> {
  if (groups.length === 0) return new Map()
  const cutoff = (Date.now() - ctx.groupExpiryMs) / 1000
  const results = await shard.call(
    async (client) => {
      const pipeline = client.pipeline()
      for (const group of groups) pipeline.zrangebyscore(shard.keys.group(group), `(${String(cutoff)}`, '+inf')
      return pipelineResults(await pipeline.exec())
    },
    { idempotent: true },
  )
  return new Map(groups.map((group, i) => [group, (results[i] as string[] | undefined) ?? []]))
}

function sum(previous: ChannelSnapshot | undefined, next: ChannelSnapshot): ChannelSnapshot {
  if (previous === undefined) return next
  return {
    name: next.name,
    backlog: previous.backlog + next.backlog,
    inFlight: previous.inFlight + next.inFlight,
    delayed: previous.delayed + next.delayed,
    deadLetters: previous.deadLetters + next.deadLetters,
  }
}
