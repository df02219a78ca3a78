/** What keys cost a redis-server: INFO `used_memory` and `MEMORY USAGE`, for the history and presence workloads. */
import type { Redis } from 'ioredis'

import type { KeyMemory } from './result.js'

/** INFO memory's `used_memory`, in bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory')
  const match = /^used_memory:(\d+)/m.exec(info)
  if (match?.[1] === undefined) throw new Error('no used_memory in INFO memory')
  return Number(match[1])
}

/** One key's type, encoding and `MEMORY USAGE ... SAMPLES 0` (every element counted); throws if it is missing. */
export async function keyMemory(redis: Redis, role: string, key: string): Promise<KeyMemory> {
  const [type, encoding, bytes] = await Promise.all([
    redis.type(key),
    redis.object('ENCODING', key),
    redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'),
  ])
  if (bytes === null) throw new Error(`${key} (${role}) does not exist: did its key move (keys.ts)?`)
  return { role, type, encoding: String(encoding), bytes: Number(bytes) }
}
