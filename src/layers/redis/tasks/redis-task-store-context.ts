import type { Logger } from '../../../logger.js'
import type { TaskStoreOptions } from '../../../tasks/task-store.js'
import type { Message } from '../../channel-layer.js'
import type { RedisShard } from '../redis-shard.js'
import type { ReplicaWait } from '../replica-wait.js'
import type { MessageSerializer } from '../serializer.js'

/** What the Redis task store is given by its layer. */
export interface RedisTaskStoreContext {
  /** Throws `LayerClosedError` once the layer is closed: every call of the store checks first, as memory's does. */
  assertOpen(operation: string): void
  /** Decodes stored payloads with no age limit: a task may wait in retries far longer than a message's expiry. */
  readonly serializer: MessageSerializer
  readonly options: TaskStoreOptions
  /** The layer option `waitForReplicas`: a settlement resolves once that many replicas have it. */
  readonly waitForReplicas: ReplicaWait | undefined
  readonly log: Logger
  /** Called with the number of expired tasks a claim found (the layer counts them; the worker buries them). */
  onExpired(count: number): void
  /** The set of wake markers to watch changed (`wakeKeys`): the blocking reader re-issues its read. */
  onWatchChange(): void
  /** A retry waits among the delayed messages until `dueAt` (ms since the epoch): the mover is armed for it. */
  onDelayed(dueAt: number): void
  /** The shard holding a channel's queue (and so its task bookkeeping). */
  shardFor(channel: string): RedisShard
  /** Every shard (task states and dead-letter indexes are looked up on each). */
  readonly shards: readonly RedisShard[]
  /** The layer's `groupSend`: task events go to a task's progress group (issue 17). */
  groupSend(group: string, message: Message): Promise<void>
  /** The layer's send of a flow step (`RedisFlowContext`). */
  sendFlowStep(channel: string, message: Message, tag: string): Promise<void>
  /** The shard holding a group's memberships (task events check for listeners there). */
  shardForGroup(group: string): RedisShard
  /** Whether a group keeps history (layer option `history`): task events to it are sent even with no member. */
  keepsHistory(group: string): boolean
}
