import { ChannelFullError, ChannelNotLocalError, LayerClosedError } from '../../errors.js'
import type {
  ChannelLayer,
  GroupAddOptions,
  GroupAddResult,
  GroupHistory,
  GroupHistoryOptions,
  Message,
  ReceiveOptions,
  SendOptions,
} from '../channel-layer.js'
import { RedisTaskStore } from './tasks/redis-task-store.js'
import { DropReporter } from '../../drop-reporter.js'
import { capacityFor, sendDelayMs } from '../layer-options.js'
import type { BufferedReceiver } from '../buffered-receiver.js'
import { LocalChannels } from '../local-channels.js'
import { PurgeTimer } from '../purge-timer.js'
import type { ChannelListener, ListeningReceiver } from '../channel-listener.js'
import { prepareMessage } from '../message-validation.js'
import { assertChannelName, assertGroupName, isProcessSpecific, nonLocalName } from '../names.js'
import { ProcessChannels } from '../process-channels.js'
import type { Logger } from '../../logger.js'
import { settledBy } from '../../settled-by.js'
import type { InspectOptions, LayerSnapshot, PurgeOptions } from '../snapshot.js'
import { moveDueDelayed, sendLater, sendNow, type SendContext } from './channel-send.js'
import { ACTIVE_MOVE_MS, DelayedMover } from './delayed-mover.js'
import { Inbound } from './inbound.js'
import { inspectRedis } from './inspect.js'
import { purgeExpiredMemberships } from './purge-memberships.js'
import { ProcessPresence } from './presence.js'
import type { RedisGroupPresence } from './group-presence.js'
import { RedisGroups } from './redis-groups.js'
import { LocalGroups } from './local-groups.js'
import { resolveRedisOptions, type RedisLayerOptions, type ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import type { ClusterConnection } from './cluster-connection.js'
import { connectShards } from './connect-shards.js'
import { inboundContext, presenceContext, taskStoreContext, type RedisLayerParts } from './redis-layer-contexts.js'
import { RedisCounters, type RedisLayerStats } from './redis-stats.js'
import { shardAt, shardForGroup } from './shard-at.js'
import { unlinkKeysUnder } from './scan-keys.js'
import { createSerializer, type MessageSerializer } from './serializer.js'
import { consistentHash } from './shard.js'

export type { RedisLayerStats } from './redis-stats.js'

/**
 * The channel layer on Redis, wire-compatible with Django's channels_redis 4.x: Django and Node processes
 * sharing one Redis and prefix send to each other's channels and groups. It adds what channels_redis lacks:
 * atomic capacity checks, group sends whose cost does not grow with a process's member count, cancellation
 * that never loses or reorders a message, reconnection after a Redis restart (memberships re-added), and dead
 * processes swept out of their groups within `staleAfterMs`.
 *
 * @example
 * ```ts
 * const layer = new RedisChannelLayer({ hosts: [process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'], prefix: 'asgi' })
 * await layer.groupSend('chat.lobby', { type: 'chat.message', text: 'hello from Node' })
 * ```
 */
export class RedisChannelLayer implements ChannelLayer, BufferedReceiver, ListeningReceiver {
  readonly options: ResolvedRedisOptions
  /** 32 hex characters, as channels_redis' client prefix: names this process's channels. */
  readonly clientId: string
  private readonly shards: RedisShard[]
  /** The cluster client every shard shares (option `cluster`). */
  private readonly cluster: ClusterConnection | undefined
  private readonly serializer: MessageSerializer
  private readonly counters = new RedisCounters()
  private readonly log: Logger
  private readonly drops: DropReporter
  private readonly local: LocalChannels
  /** Expires what waits in `local` unreceived, while anything does (the reader also skips expired messages). */
  private readonly purges: PurgeTimer
  private readonly normal: LocalChannels
  private readonly processChannels: ProcessChannels
  private readonly localGroups = new LocalGroups()
  /** Non-local names (`specific.<id>!`) of this process's queues, one per `newChannel` prefix used. */
  private readonly ownNonLocal = new Set<string>()
  private readonly inbound: Inbound
  private readonly timers: NodeJS.Timeout[] = []
  private readonly delayedMover: DelayedMover
  /** At-least-once tasks on this layer's channels (RetryingConsumer, dead letters, task state). */
  readonly tasks: RedisTaskStore
  private readonly processPresence: ProcessPresence
  /** Who is in a group, for groups matching the option `presence` (issue 16). */
  readonly presence: RedisGroupPresence
  private readonly sending: SendContext
  private readonly groups: RedisGroups
  /** Aborted by `close()`: periodic work still retrying against an unreachable Redis gives up (`CallOptions.signal`). */
  private readonly closing = new AbortController()
  /** The first heartbeat: until it is in Redis, group sends would not know this process for a Switchyard one. */
  private registered: Promise<void> = Promise.resolve()

  constructor(options?: RedisLayerOptions) {
    this.options = resolveRedisOptions(options)
    this.log = this.options.logger.child({ layer: 'redis' })
    this.drops = new DropReporter(this.log)
    this.serializer = createSerializer({
      format: this.options.serializer,
      ...(this.options.symmetricEncryptionKeys.length > 0
        ? { symmetricEncryptionKeys: this.options.symmetricEncryptionKeys }
        : {}),
      expiryMs: this.options.expiryMs,
    })
    const connected = connectShards(this.options, this.log, (index) => void this.onReconnect(index))
    this.shards = connected.shards
    this.cluster = connected.cluster
    this.purges = new PurgeTimer(
      Math.min(1_000, Math.max(50, Math.floor(this.options.expiryMs / 2))),
      () => {
        this.local.purgeExpired()
      },
      () => this.local.queued > 0,
    )
    this.local = new LocalChannels(
      (channel) => capacityFor(this.options, channel),
      ({ channel }) => {
        this.counters.expired++
        void this.groups.leaveLocal(channel)
      },
      () => {
        this.purges.arm()
      },
    )
    this.normal = new LocalChannels(
      () => 0,
      () => undefined,
    )
    this.processChannels = new ProcessChannels(this.local, this.counters)
    this.clientId = this.processChannels.clientId
    this.ownNonLocal.add(`specific.${this.clientId}!`)
    this.groups = new RedisGroups({
      shards: this.shards,
      options: this.options,
      serializer: this.serializer,
      local: this.local,
      localGroups: this.localGroups,
      counters: this.counters,
      drops: this.drops,
      log: this.log,
      clientId: this.clientId,
      isLocal: (channel) => this.isLocal(channel),
      processPresence: () => this.processPresence,
      inbound: () => this.inbound,
      assertOpen: (operation) => {
        this.assertOpen(operation)
      },
      isClosed: () => this.closed,
      registered: () => this.registered,
    })
    const parts = this.parts()
    this.inbound = new Inbound(inboundContext(parts))
    this.tasks = new RedisTaskStore(taskStoreContext(parts, options))
    this.processPresence = new ProcessPresence(presenceContext(parts))
    this.presence = this.groups.presence
    this.sending = {
      options: this.options,
      shards: this.shards,
      log: this.log,
      shardFor: (channel) => this.shardFor(channel),
      encode: (message) => this.serializer.encode(message),
    }
    this.delayedMover = new DelayedMover({
      move: () => moveDueDelayed(this.sending, ACTIVE_MOVE_MS),
      hasIdleWorkers: () => this.shards.some((shard) => this.tasks.wakeKeys(shard).length > 0),
    })
    this.start()
  }

  /** Resolves once every Redis host answers; rejects with `RedisUnavailableError` naming the host otherwise. */
  async ready(timeoutMs = this.options.retryWindowMs): Promise<void> {
    await Promise.all(this.shards.map((shard) => shard.ready(timeoutMs)))
  }

  async send(channel: string, message: Message, sendOptions?: SendOptions): Promise<void> {
    this.assertOpen('send')
    assertChannelName(channel)
    const delayMs = sendDelayMs(sendOptions)
    const prepared = prepareMessage(message, this.options.maxMessageBytes)
    const capacity = capacityFor(this.options, channel)
    const target = { capacity, task: this.tasks.isTaskChannel(channel) }
    if (delayMs > 0) {
      if (!(await sendLater(this.sending, channel, prepared.message, delayMs, target))) {
        this.counters.rejected++
        throw new ChannelFullError(channel, capacity)
      }
      this.counters.sent++
      this.delayedMover.delayedSent(Date.now() + delayMs)
      return
    }
    const { queued, expired, capacity: applied } = await sendNow(this.sending, channel, prepared.message, target)
    this.counters.expired += expired
    // send.lua removed an expired channel from the groups on its own shard; with shards, groups live elsewhere too.
    if (expired > 0 && !isProcessSpecific(channel) && this.shards.length > 1)
      await this.processPresence.leaveGroups(channel)
    if (!queued) {
      this.counters.rejected++
      // A live process's shared queue has a limit of its own (`processQueueCapacity`, send.lua): name the one applied.
      throw new ChannelFullError(channel, applied, applied === capacity ? {} : { limitOption: 'processQueueCapacity' })
    }
    this.counters.sent++
  }

  async receive(channel: string, options?: ReceiveOptions): Promise<Message> {
    this.assertOpen('receive')
    assertChannelName(channel)
    const signal = options?.signal
    if (isProcessSpecific(channel)) {
      if (!this.isLocal(channel)) throw new ChannelNotLocalError(channel)
      signal?.throwIfAborted()
      return this.processChannels.take(channel) ?? this.local.wait(channel, signal)
    }
    signal?.throwIfAborted()
    return this.inbound.receiveNormal(channel, signal)
  }

  /** A message already buffered for one of this process's channels, taken without a promise (`BufferedReceiver`). */
  takeBuffered(channel: string): Message | undefined {
    // Only this process's channels are ever buffered: any other name finds nothing, and `receive` says why.
    return this.closed ? undefined : this.processChannels.take(channel)
  }

  /** Hands the next message of one of this process's channels to `listener` (`ListeningReceiver`). */
  listen(channel: string, listener: ChannelListener): boolean {
    return !this.closed && this.processChannels.listen(channel, listener)
  }

  unlisten(channel: string, listener: ChannelListener): boolean {
    return this.processChannels.unlisten(channel, listener)
  }

  async newChannel(prefix = 'specific'): Promise<string> {
    this.assertOpen('create a channel')
    const { name, nonLocal } = this.processChannels.newName(prefix)
    if (!this.ownNonLocal.has(nonLocal)) {
      this.ownNonLocal.add(nonLocal)
      await this.processPresence.heartbeat()
      this.inbound.keysChanged()
    }
    return name
  }

  async groupAdd(group: string, channel: string, options?: GroupAddOptions): Promise<GroupAddResult> {
    this.assertOpen('add to a group')
    assertGroupName(group)
    assertChannelName(channel)
    return this.groups.add(group, channel, options)
  }

  /** Kept messages of a history group, oldest first, and its position. */
  async groupHistory(group: string, options?: GroupHistoryOptions): Promise<GroupHistory> {
    this.assertOpen('read group history')
    assertGroupName(group)
    return this.groups.read(group, options)
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.assertOpen('discard from a group')
    assertGroupName(group)
    assertChannelName(channel)
    await this.groups.discard(group, channel)
  }

  async groupSend(group: string, message: Message): Promise<void> {
    this.assertOpen('send to a group')
    assertGroupName(group)
    await this.groups.send(group, message)
  }

  /** Deletes every key under this layer's prefix (SCAN, never KEYS) and local state; receives keep waiting. */
  async flush(): Promise<void> {
    this.assertOpen('flush')
    for (const shard of this.shards) await unlinkKeysUnder(shard, shard.keys.prefix)
    this.local.clear()
    this.localGroups.clear()
    await this.processPresence.heartbeat()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closing.abort()
    for (const timer of this.timers) clearInterval(timer)
    this.purges.stop()
    this.delayedMover.stop()
    this.tasks.close()
    // Redis gets `retryWindowMs` to take what the process leaves, as any call does: one that does not answer (frozen,
    // or cut off without a reset, where a command waits for ever) must not hold a process that is shutting down.
    const deadline = Date.now() + this.options.retryWindowMs
    await settledBy(this.groups.history.pump.idle(), deadline)
    await settledBy(this.processPresence.deregister(), deadline)
    // Stop the readers first (synchronously), so the connections closing under them ends their loops at once.
    const readersStopped = this.inbound.stop()
    await Promise.all(this.shards.map((shard) => shard.close(deadline)))
    await this.cluster?.close(deadline)
    await readersStopped
    // Rejected last, as close() resolves (the memory layer rejects synchronously too): rejected before the awaits
    // above, a receive the caller awaits only after `await close()` was an unhandled rejection meanwhile.
    const error = new LayerClosedError('receive')
    this.local.rejectAll(error)
    this.normal.rejectAll(error)
  }

  stats(): RedisLayerStats {
    return this.counters.redisSnapshot(this.shards)
  }

  /** Channels, groups and workers of every process on this prefix (SCAN, bounded), and this layer's counters. */
  async inspect(options?: InspectOptions): Promise<LayerSnapshot> {
    this.assertOpen('inspect')
    const { shards, tasks } = this
    return inspectRedis({ shards, tasks, groupExpiryMs: this.options.groupExpiryMs, stats: this.stats() }, options)
  }

  /** Removes memberships past `groupExpiryMs` from every group (group sends skip them; nothing else deletes them). */
  async purgeExpiredMemberships(options?: PurgeOptions): Promise<number> {
    this.assertOpen('purge expired memberships')
    return purgeExpiredMemberships({ shards: this.shards, groupExpiryMs: this.options.groupExpiryMs }, options)
  }

  /** What the collaborators' contexts are built from (redis-layer-contexts.ts). */
  private parts(): RedisLayerParts {
    return {
      shards: this.shards,
      options: this.options,
      serializer: this.serializer,
      log: this.log,
      counters: this.counters,
      local: this.local,
      normal: this.normal,
      localGroups: this.localGroups,
      groups: this.groups,
      clientId: this.clientId,
      ownNonLocal: this.ownNonLocal,
      isLocal: (channel) => this.isLocal(channel),
      shardFor: (channel) => this.shardFor(channel),
      shardForGroup: (group) => this.shardForGroup(group),
      assertOpen: (operation) => {
        this.assertOpen(operation)
      },
      isClosed: () => this.closed,
      closing: this.closing.signal,
      groupSend: (group, message) => this.groupSend(group, message),
      tasks: () => this.tasks,
      inbound: () => this.inbound,
      processPresence: () => this.processPresence,
      delayedMover: () => this.delayedMover,
      sending: () => this.sending,
    }
  }

  /** Starts reading, proving this process alive, and the upkeep every live process shares. */
  private start(): void {
    this.inbound.start()
    this.registered = this.processPresence.heartbeat()
    this.delayedMover.start()
    this.every(60_000, () => void this.tasks.purgeExpiredDeadLetters().catch(() => undefined))
    void this.groups.history.pump.renew()
    this.every(this.options.heartbeatIntervalMs, () => {
      void this.processPresence.heartbeat()
      void this.groups.history.pump.renew()
    })
  }

  private get closed(): boolean {
    return this.closing.signal.aborted
  }

  private isLocal(channel: string): boolean {
    return this.ownNonLocal.has(nonLocalName(channel))
  }

  /** channels_redis' consistent hash, on the non-local name for `!` channels (fixing channels_redis#221). */
  private shardIndexFor(channel: string): number {
    return consistentHash(nonLocalName(channel), this.shards.length)
  }

  private shardFor(channel: string): RedisShard {
    return shardAt(this.shards, this.shardIndexFor(channel))
  }

  private shardForGroup(group: string): RedisShard {
    return shardForGroup(this.shards, group)
  }

  /** After a reconnect Redis may have lost everything (a restart without persistence): re-add what we had. */
  private async onReconnect(index: number): Promise<void> {
    await this.processPresence.heartbeat()
    await this.processPresence.readdMemberships(index)
    this.inbound.keysChanged()
  }

  private every(intervalMs: number, task: () => void): void {
    const timer = setInterval(task, intervalMs)
    timer.unref()
    this.timers.push(timer)
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new LayerClosedError(operation)
  }
}
