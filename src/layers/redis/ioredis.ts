/**
 * ioredis, loaded when the first Redis client is created rather than when the package is imported: an app on the
 * in-memory layer (and the root entry, which re-exports RedisChannelLayer) then never loads it. ioredis is
 * CommonJS, so `require` is synchronous and the layer's constructor stays synchronous too.
 */
import { createRequire } from 'node:module'

import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis'

type IoRedis = typeof import('ioredis')

let ioredis: IoRedis | undefined

function load(): IoRedis {
  ioredis ??= createRequire(import.meta.url)('ioredis') as IoRedis
  return ioredis
}

export function newRedisClient(url: string, options: RedisOptions): Redis
export function newRedisClient(options: RedisOptions): Redis
export function newRedisClient(urlOrOptions: string | RedisOptions, options?: RedisOptions): Redis {
  const { Redis: Client } = load()
  return typeof urlOrOptions === 'string' ? new Client(urlOrOptions, options ?? {}) : new Client(urlOrOptions)
}

export function newClusterClient(nodes: ClusterNode[], options: ClusterOptions): Cluster {
  const { Cluster: Client } = load()
  return new Client(nodes, options)
}
