import type { RedisShard } from './redis-shard.js'

/**
 * Walks the keys of one shard matching `pattern` (and of `type`, when given) with SCAN, never KEYS, handing each
 * batch to `onBatch`; stops early when `onBatch` returns false. SCAN may return a key twice: callers dedupe.
 */
export async function scanKeys(
  shard: RedisShard,
  pattern: string,
  type: 'zset' | undefined,
  onBatch: (keys: readonly string[]) => boolean,
): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await shard.scan(cursor, pattern, type)
    cursor = next
    if (keys.length > 0 && !onBatch(keys)) return
  } while (cursor !== '0')
}

/** Deletes every key of one shard that starts with `prefix` (SCAN, never KEYS; UNLINK frees them in the background). */
export async function unlinkKeysUnder(shard: RedisShard, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, found] = await shard.scan(cursor, `${escapeGlob(prefix)}*`)
    cursor = next
    if (found.length > 0) await shard.call((client) => client.unlink(...found), { idempotent: true })
  } while (cursor !== '0')
}

/** A literal for SCAN's MATCH: the glob characters in a key prefix escaped. */
export function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&')
}

/** Each `[error, result]` of a pipeline's `exec()`, the first error thrown. */
export function pipelineResults(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('the Redis pipeline was discarded')
  return results.map(([error, result]) => {
    if (error !== null) throw error
    return result
  })
}
