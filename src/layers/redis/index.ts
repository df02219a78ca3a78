/**
 * `switchyard-channels/redis`: the Redis channel layer, wire-compatible with channels_redis. ioredis and msgpackr
 * load when the first layer connects, so importing this entry (or the root, which re-exports it) costs nothing
 * until then.
 */
export type { ChannelCapacity } from '../layer-options.js'
export { RedisChannelLayer, type RedisLayerStats } from './redis-layer.js'
export type { RedisClusterOptions, RedisHost, RedisLayerOptions, SentinelHost } from './redis-options.js'
export type { ReplicaWaitOptions } from './replica-wait.js'
