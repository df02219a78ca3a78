import type { LayerCounters } from '../layer-stats.js'
import type { LocalChannels } from '../local-channels.js'
import type { Logger } from '../../logger.js'
import type { RecoveryHolds } from './history/recovery-holds.js'
import type { LocalGroups } from './local-groups.js'
import type { RedisShard } from './redis-shard.js'

export interface Decoder {
  decode(payload: Uint8Array): Record<string, unknown>
}

/** The reading side's view of the layer (redis-layer-contexts.ts builds it): Inbound's, and its ProcessRouter's. */
export interface InboundContext {
  readonly shards: readonly RedisShard[]
  readonly expiryMs: number
  readonly groupExpiryMs: number
  readonly serializer: Decoder
  /** This process's channels (`specific.<id>!…`), buffered. */
  readonly local: LocalChannels
  /** Receives waiting on normal channels; their messages are never buffered here. */
  readonly normal: LocalChannels
  readonly localGroups: LocalGroups
  readonly counters: LayerCounters & { decodeFailed: number }
  readonly log: Logger
  /** The smallest capacity a local channel may have (`capacity` and every `channelCapacity` rule). */
  readonly minCapacity: number
  /** This process's queue keys on shard `index`. */
  processQueues(index: number): readonly string[]
  isLocal(channel: string): boolean
  /** A normal channel's message expired unread: it leaves its groups. */
  onNormalExpired(channel: string): void
  /** The wake markers of idle task channels on shard `index` (TaskStore.waitForTasks). */
  wakeKeys(index: number): readonly string[]
  /** The channel a wake marker key belongs to, or undefined when `key` is not one. */
  wakeChannelOf(index: number, key: string): string | undefined
  /** A sender queued a task on `channel`: its idle workers wake. */
  onWake(channel: string): void
  /** Live history messages held back from channels joining their group. */
  readonly holds: RecoveryHolds
  /** The history pump's queue on shard `index`, while this process holds its lease. */
  pumpKeys(index: number): readonly string[]
  isPumpKey(key: string): boolean
  /** A Django group send to a history group, popped from the pump's queue. */
  onPumped(member: Buffer, score: Buffer): void
}
