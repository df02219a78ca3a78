import type { PurgeOptions } from '../snapshot.js'
import type { RedisShard } from './redis-shard.js'
import { escapeGlob, scanKeys } from './scan-keys.js'
import { runPurgeGroups } from './scripts/group-scripts.js'

/** Groups per purge-groups.lua call, and memberships one call may remove: bound how long one script blocks Redis. */
const GROUPS_PER_CALL = 100
const REMOVALS_PER_CALL = 2_000

/**
 * Removes memberships older than `groupExpiryMs` from every group under the prefix (found by SCAN), a batch of
 * groups (and at most REMOVALS_PER_CALL memberships) per script call, reporting progress after each batch;
 * resolves to how many were removed (or, with `dryRun`, would be).
 */
export async function purgeExpiredMemberships(
  ctx: { readonly shards: readonly RedisShard[]; readonly groupExpiryMs: number },
  options: PurgeOptions = {},
): Promise<number> {
  const perShard: string[][] = []
  for (const shard of ctx.shards) {
    const groups = new Set<string>()
    await scanKeys(shard, `${escapeGlob(shard.keys.groupPrefix)}*`, 'zset', (keys) => {
      for (const key of keys) groups.add(key)
      return true
    })
    perShard.push([...groups])
  }
  const total = perShard.reduce((count, groups) => count + groups.length, 0)
  const cutoffMs = Date.now() - ctx.groupExpiryMs
  let done = 0
  let removed = 0
  for (const [index, shard] of ctx.shards.entries()) {
    const groups = perShard[index] ?? []
    for (let start = 0; start < groups.length;) {
      const batch = groups.slice(start, start + GROUPS_PER_CALL)
      const { removed: count, finished } = await shard.call(
        (client) =>
          runPurgeGroups(client, shard.keys, {
            groups: batch,
            cutoffMs,
            dryRun: options.dryRun === true,
            budget: REMOVALS_PER_CALL,
          }),
        { idempotent: true },
      )
      removed += count
      // A group with more expired memberships than one call removes is finished by the next ones.
      start += finished
      done += finished
      if (finished > 0) options.onProgress?.(done, total)
    }
  }
  if (total === 0) options.onProgress?.(0, 0)
  return removed
}
