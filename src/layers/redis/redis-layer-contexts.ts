import { ChannelFullError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { resolveTaskStoreOptions } from '../../tasks/task-store-options.js'
import type { Message } from '../channel-layer.js'
import { capacityFor } from '../layer-options.js'
import type { LocalChannels } from '../local-channels.js'
import { prepareMessage } from '../message-validation.js'
import { sendNow, type SendContext } from './channel-send.js'
import type { DelayedMover } from './delayed-mover.js'
import type { Inbound, InboundContext } from './inbound.js'
import type { LocalGroups } from './local-groups.js'
import type { PresenceContext, ProcessPresence } from './presence.js'
import type { RedisGroups } from './redis-groups.js'
import type { RedisLayerOptions, ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import type { RedisCounters } from './redis-stats.js'
import type { MessageSerializer } from './serializer.js'
import { shardAt } from './shard-at.js'
import type { RedisTaskStore } from './tasks/redis-task-store.js'
import type { RedisTaskStoreContext } from './tasks/redis-task-store-context.js'

/** Tasks may wait in retries far longer than a message's expiry: their payloads decode without a real age limit. */
const TASK_PAYLOAD_EXPIRY_MS = 10 * 365 * 86_400_000

/** What RedisChannelLayer hands its collaborators: its state, its routing and its operations. */
export interface RedisLayerParts {
  readonly shards: readonly RedisShard[]
  readonly options: ResolvedRedisOptions
  readonly serializer: MessageSerializer
  readonly log: Logger
  readonly counters: RedisCounters
  readonly local: LocalChannels
  readonly normal: LocalChannels
  readonly localGroups: LocalGroups
  readonly groups: RedisGroups
  readonly clientId: string
  /** Non-local names (`specific.<id>!`) of this process's queues, one per `newChannel` prefix used. */
  readonly ownNonLocal: ReadonlySet<string>
  isLocal(channel: string): boolean
  shardFor(channel: string): RedisShard
  shardForGroup(group: string): RedisShard
  assertOpen(operation: string): void
  isClosed(): boolean
  /** Aborted when the layer closes. */
  readonly closing: AbortSignal
  groupSend(group: string, message: Message): Promise<void>
  // Made after the contexts that use them (or, for `sending`, after the task store): read when called.
  tasks(): RedisTaskStore
  inbound(): Inbound
  processPresence(): ProcessPresence
  delayedMover(): DelayedMover
  sending(): SendContext
}

/** The reading side's view of the layer (Inbound). */
export function inboundContext(parts: RedisLayerParts): InboundContext {
  const { shards, options, groups } = parts
  return {
    shards,
    expiryMs: options.expiryMs,
    groupExpiryMs: options.groupExpiryMs,
    serializer: parts.serializer,
    local: parts.local,
    normal: parts.normal,
    localGroups: parts.localGroups,
    counters: parts.counters,
    log: parts.log,
    minCapacity: Math.min(options.capacity, ...options.channelCapacity.map((rule) => rule.capacity)),
    processQueues: processQueues(shards, parts.ownNonLocal),
    isLocal: (channel) => parts.isLocal(channel),
    onNormalExpired: (channel) => void parts.processPresence().leaveGroups(channel),
    wakeKeys: (index) => {
      const shard = shards[index]
      return shard === undefined ? [] : parts.tasks().wakeKeys(shard)
    },
    wakeChannelOf: (index, key) => shardAt(shards, index).keys.wakeChannel(key),
    onWake: (channel) => {
      parts.tasks().wake(channel)
    },
    holds: groups.history.holds,
    pumpKeys: (index) => groups.history.pump.keysFor(index),
    isPumpKey: (key) => groups.history.pump.isProxyQueue(key),
    onPumped: (member, score) => {
      groups.history.pump.take(member, score)
    },
  }
}

/**
 * The queue keys this process reads on shard `index`: all of them, on every shard. Direct sends reach a queue on
 * the shard its name hashes to (channels_redis' rule), but history-send.lua delivers on the group's shard, in the
 * same step that numbers the message, so members of a history group see its offsets in order with shards too.
 */
function processQueues(
  shards: readonly RedisShard[],
  ownNonLocal: ReadonlySet<string>,
): (index: number) => readonly string[] {
  /** The keys per shard, for `names` of `ownNonLocal`. */
  let queueKeys: { readonly names: number; readonly byShard: readonly (readonly string[])[] } | undefined
  return (index) => {
    // Read for every message the blocking read brings: built again only when a `newChannel` prefix was added
    // (`ownNonLocal` only grows).
    if (queueKeys?.names !== ownNonLocal.size) {
      const own = [...ownNonLocal]
      queueKeys = {
        names: own.length,
        byShard: shards.map(({ keys }) => own.map((nonLocal) => keys.queue(nonLocal))),
      }
    }
    return queueKeys.byShard[index] ?? []
  }
}

/** The task store's view of the layer; `options` are the layer's own, for the task store's options among them. */
export function taskStoreContext(
  parts: RedisLayerParts,
  options: RedisLayerOptions | undefined,
): RedisTaskStoreContext {
  const { counters } = parts
  return {
    assertOpen: (operation) => {
      parts.assertOpen(operation)
    },
    serializer: parts.serializer.withExpiry(TASK_PAYLOAD_EXPIRY_MS),
    options: resolveTaskStoreOptions(options),
    waitForReplicas: parts.options.waitForReplicas,
    log: parts.log,
    groupSend: (group, message) => parts.groupSend(group, message),
    sendFlowStep: async (channel, message, flowTag) => {
      // A step is a task: its channel becomes a task channel (send.lua), its message waits as long as needed.
      const capacity = capacityFor(parts.options, channel)
      const prepared = prepareMessage(message, parts.options.maxMessageBytes).message
      const reply = await sendNow(parts.sending(), channel, prepared, { capacity, task: true, flowTag })
      if (reply.known) return
      if (!reply.queued) {
        counters.rejected++
        throw new ChannelFullError(channel, capacity)
      }
      counters.sent++
    },
    shardForGroup: (group) => parts.shardForGroup(group),
    keepsHistory: (group) => parts.groups.history.settingsOf(group) !== undefined,
    onExpired: (count) => {
      counters.expired += count
    },
    onDelayed: (dueAt) => {
      parts.delayedMover().delayedSent(dueAt)
    },
    onWatchChange: () => {
      parts.inbound().keysChanged()
    },
    shards: parts.shards,
    shardFor: (channel) => parts.shardFor(channel),
  }
}

/** This process's liveness upkeep's view of the layer (ProcessPresence). */
export function presenceContext(parts: RedisLayerParts): PresenceContext {
  const { groups, counters } = parts
  return {
    shards: parts.shards,
    options: parts.options,
    log: parts.log,
    localGroups: parts.localGroups,
    clientId: parts.clientId,
    ownNonLocal: () => parts.ownNonLocal,
    shardForGroup: (group) => parts.shardForGroup(group),
    memberSetName: (group) => groups.history.memberSetName(group),
    rejoin: (group, channel) => groups.rejoin(group, channel),
    isClosed: () => parts.isClosed(),
    closing: parts.closing,
    onSwept: (count) => {
      counters.staleProcessesSwept += count
    },
    // The layer's `presence` is this same object (`groups.presence`).
    onProcessSwept: (shard, queue) => groups.presence.sweepProcess(shard, queue),
  }
}
