import type { InspectOptions, LayerSnapshot, PurgeOptions } from '../snapshot.js'

import { ChannelFullError, ChannelNotLocalError, LayerClosedError } from '../../errors.js'
import { reportGroupSend } from '../../diagnostics.js'
import { MemoryTaskStore } from './memory-task-store.js'
import {
  resolveTaskStoreOptions,
  TASK_STORE_OPTION_KEYS,
  type TaskStoreLayerOptions,
} from '../../tasks/task-store-options.js'
import type {
  ChannelLayer,
  GroupAddOptions,
  GroupAddResult,
  GroupHistory,
  GroupHistoryOptions,
  LayerStats,
  Message,
  ReceiveOptions,
  SendOptions,
} from '../channel-layer.js'
import { DelayedMessages } from '../delayed-messages.js'
import { DropReporter } from '../../drop-reporter.js'
import {
  capacityFor,
  resolveLayerOptions,
  sendDelayMs,
  type LayerOptions,
  type ResolvedLayerOptions,
} from '../layer-options.js'
import { LayerCounters } from '../layer-stats.js'
import type { BufferedReceiver } from '../buffered-receiver.js'
import { DROPPED, HANDED, LocalChannels } from '../local-channels.js'
import type { ChannelListener, ListeningReceiver } from '../channel-listener.js'
import { historyQuery, recoverOption } from '../history/history-requests.js'
import { historyFor } from '../history/history-options.js'
import { MemoryGroups } from './memory-groups.js'
import { MemoryHistory } from './memory-history.js'
import { memorySnapshot } from './memory-inspect.js'
import { prepareMessage } from '../message-validation.js'
import { assertChannelName, assertGroupName } from '../names.js'
import { ProcessChannels } from '../process-channels.js'
import { MemoryPresence } from '../presence/memory-presence.js'

/** The in-memory layer's options: the shared ones, plus its task store's. */
export type InMemoryLayerOptions = LayerOptions & TaskStoreLayerOptions

/** A message waiting for its due time: a delayed `send`, or a task being retried after a delay. */
interface Delayed {
  readonly channel: string
  readonly message: Message
  /** A task the store holds: due, it bypasses capacity and never expires, so it cannot be lost. */
  readonly task: boolean
}

/**
 * A channel layer inside one process, with Channels' semantics: FIFO per channel, capacity, per-message expiry
 * (an expired message also removes its channel from every group), group membership expiring `groupExpiryMs`
 * after the last `groupAdd`, and `groupSend` that skips full channels and counts the drop.
 *
 * Good for development, tests and single-process apps (server and worker together); use the Redis layer to span
 * processes. Received messages are deep-frozen copies shared by every member of a group send.
 *
 * Expiry is lazy and O(1) per message: every call first drops what has expired, so expiry needs no timers.
 * Delayed sends (`{ delayMs }`) wait in one heap with one unref'd timer for the earliest, cleared by `flush()` and
 * `close()`; every call also delivers those already due. `tasks` runs RetryingConsumers on this layer's queues.
 * Groups matching the option `history` number their messages (`__position__`), keep the last ones for `groupHistory`
 * and let a returning member `recover` what it missed (`memory-history.ts`).
 *
 * @example
 * ```ts
 * const layer = new InMemoryChannelLayer({ capacity: 100, channelCapacity: { 'jobs.*': 1000 } })
 * await layer.send('jobs.email', { type: 'email.send', userId: 42 })
 * const message = await layer.receive('jobs.email')
 * ```
 */
export class InMemoryChannelLayer implements ChannelLayer, BufferedReceiver, ListeningReceiver {
  readonly options: ResolvedLayerOptions
  /** Channels' queues and pending receives; with one `expiryMs`, arrival order is also expiry order. */
  private readonly local: LocalChannels
  /** Names `newChannel()` returns: their client id is how `receive` knows a name is ours. */
  private readonly processChannels: ProcessChannels
  private readonly groups: MemoryGroups
  /** Groups matching the option `history`: positions, kept messages, recovery. */
  private readonly history: MemoryHistory
  private readonly counters = new LayerCounters()
  private readonly drops: DropReporter
  private readonly delayed = new DelayedMessages<Delayed>(
    (item) => {
      this.deliverDelayed(item)
    },
    () => {
      this.refresh()
    },
    (item) => item.channel,
  )
  /** At-least-once task delivery on this layer's channels (claims, retries, dead letters), for one process. */
  readonly tasks: MemoryTaskStore
  /** Who is in a group, for groups matching the option `presence` (issue 16). */
  readonly presence: MemoryPresence
  private closed = false

  constructor(options?: InMemoryLayerOptions) {
    this.options = resolveLayerOptions(options, TASK_STORE_OPTION_KEYS)
    const log = this.options.logger.child({ layer: 'memory' })
    this.drops = new DropReporter(log)
    this.groups = new MemoryGroups(this.options.groupExpiryMs)
    this.history = new MemoryHistory(this.options.history, this.options.groupExpiryMs)
    this.local = new LocalChannels(
      (channel) => capacityFor(this.options, channel),
      ({ channel, message }) => {
        this.counters.expired++
        // No silent drop on the task path: a task that waited too long is dead-lettered as `expired`.
        if (this.tasks.isTaskChannel(channel)) this.tasks.buryExpired(channel, message, this.options.expiryMs)
        else this.groups.removeChannel(channel)
      },
    )
    this.processChannels = new ProcessChannels(this.local, this.counters)
    this.tasks = new MemoryTaskStore(
      {
        assertOpen: (operation) => {
          this.assertOpen(operation)
        },
        refresh: () => {
          this.refresh()
        },
        take: (channel) => this.local.take(channel),
        requeue: (channel, message, delayMs) => {
          if (delayMs > 0) this.delayed.schedule(Date.now() + delayMs, { channel, message, task: true })
          else this.deliverDelayed({ channel, message, task: true })
        },
        groupSend: (group, message) => this.groupSend(group, message),
        send: (channel, message) => this.send(channel, message),
        hasListeners: (group) =>
          this.groups.members(group) !== undefined || historyFor(this.options.history, group) !== undefined,
      },
      resolveTaskStoreOptions(options),
      log,
    )
    this.presence = new MemoryPresence({
      options: this.options,
      assertOpen: (operation) => {
        this.assertOpen(operation)
      },
      groupSend: (group, message) => this.groupSend(group, message),
    })
  }

  async send(channel: string, message: Message, options?: SendOptions): Promise<void> {
    this.assertOpen('send')
    assertChannelName(channel)
    const delayMs = sendDelayMs(options)
    const prepared = prepareMessage(message, this.options.maxMessageBytes)
    this.refresh()
    if (delayMs > 0) {
      this.sendLater(channel, prepared.message, delayMs)
      return
    }
    if (!this.deliver(channel, prepared.message)) {
      this.counters.rejected++
      throw new ChannelFullError(channel, capacityFor(this.options, channel))
    }
  }

  async receive(channel: string, options?: ReceiveOptions): Promise<Message> {
    this.assertOpen('receive')
    assertChannelName(channel)
    if (this.processChannels.isElsewhere(channel)) {
      throw new ChannelNotLocalError(channel)
    }
    const signal = options?.signal
    signal?.throwIfAborted()
    this.refresh()
    return this.processChannels.take(channel) ?? this.local.wait(channel, signal)
  }

  /** A message already queued on `channel`, taken without a promise (`BufferedReceiver`). */
  takeBuffered(channel: string): Message | undefined {
    if (this.closed || this.processChannels.isElsewhere(channel)) {
      return undefined
    }
    this.refresh()
    return this.processChannels.take(channel)
  }

  /** Hands the next message of one of this layer's `newChannel()` channels to `listener` (`ListeningReceiver`). */
  listen(channel: string, listener: ChannelListener): boolean {
    if (this.closed) return false
    this.refresh()
    return this.processChannels.listen(channel, listener)
  }

  unlisten(channel: string, listener: ChannelListener): boolean {
    return this.processChannels.unlisten(channel, listener)
  }

  async newChannel(prefix = 'specific'): Promise<string> {
    this.assertOpen('create a channel')
    return this.processChannels.newName(prefix).name
  }

  /**
   * Adds `channel` to `group`; on a history group resolves to its position and, with `recover`, replays what the
   * channel missed (see `MemoryHistory.join`). The replay is queued before this returns, one synchronous step with
   * the add, so no send can fall between them: no gap, no duplicate. Replayed messages join the queue even past the
   * channel's capacity (at most the history `size`): the member asked for them, and dropping part of a replay would
   * be a gap reported as `recovered: true`. They count in `sent` and expire after `expiryMs` like any message.
   */
  async groupAdd(group: string, channel: string, options?: GroupAddOptions): Promise<GroupAddResult> {
    this.assertOpen('add to a group')
    assertGroupName(group)
    assertChannelName(channel)
    const recover = recoverOption(options)
    const joined = this.history.join(group, recover)
    this.groups.add(group, channel)
    if (joined === undefined) return {}
    for (const message of joined.replay) this.deliverReplayed(channel, message)
    return joined.result
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.assertOpen('discard from a group')
    assertGroupName(group)
    assertChannelName(channel)
    this.groups.remove(group, channel)
  }

  async groupSend(group: string, message: Message): Promise<void> {
    this.assertOpen('send to a group')
    assertGroupName(group)
    const prepared = prepareMessage(message, this.options.maxMessageBytes)
    this.refresh()
    this.counters.groupSends++
    // A history group's message is recorded even with no member: a member that comes back recovers it.
    const delivered = this.history.record(group, prepared.message)
    const members = this.groups.members(group)
    if (members === undefined) {
      reportGroupSend(0)
      return
    }
    let dropped = 0
    // Channels spec: group_send never raises ChannelFull; a full member misses this message.
    for (const channel of [...members.keys()]) {
      if (!this.deliver(channel, delivered)) dropped++
    }
    reportGroupSend(members.size - dropped)
    if (dropped > 0) {
      this.counters.dropped += dropped
      this.drops.record(group, dropped)
    }
  }

  /**
   * The messages a history group keeps, oldest first, and its position (see `MemoryHistory.read`). Throws
   * `InvalidOptionError` for a bad `limit` (a positive integer) or `afterOffset` (a non-negative integer), then
   * `HistoryNotEnabledError` for a group without history.
   */
  async groupHistory(group: string, options?: GroupHistoryOptions): Promise<GroupHistory> {
    this.assertOpen('read group history')
    assertGroupName(group)
    const query = historyQuery(options)
    this.refresh()
    return this.history.read(group, query)
  }

  async flush(): Promise<void> {
    this.assertOpen('flush')
    this.delayed.clear()
    this.local.clear()
    this.tasks.clear()
    this.groups.clear()
    this.history.clear()
    this.presence.clear()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.delayed.clear()
    this.local.rejectAll(new LayerClosedError('receive'))
    this.tasks.clear()
    this.groups.clear()
    this.history.clear()
    this.presence.clear()
  }

  stats(): LayerStats {
    this.refresh()
    return this.counters.snapshot()
  }

  /** Channels (backlog, in flight, delayed, dead letters), groups, workers and counters, as monitoring shows them. */
  async inspect(options?: InspectOptions): Promise<LayerSnapshot> {
    this.assertOpen('inspect')
    this.refresh()
    return memorySnapshot(
      {
        queued: this.local.queuedCounts(),
        inFlight: this.tasks.inFlightCounts(),
        delayed: [...this.delayed.items()].map((item) => item.channel),
        deadLetters: this.tasks.deadLetterCounts(),
        groups: this.groups.snapshot(),
        workers: await this.tasks.listWorkers(),
        servers: await this.tasks.listServers(),
        stats: this.counters.snapshot(),
      },
      options,
    )
  }

  /**
   * Removes group memberships past `groupExpiryMs`; resolves to how many (with `dryRun`, how many would go).
   * Every call already drops them lazily, so this finds none unless `dryRun` is set: it is here so `switchyard
   * purge` treats both layers alike.
   */
  async purgeExpiredMemberships(options?: PurgeOptions): Promise<number> {
    this.assertOpen('purge expired memberships')
    const expired = this.groups.removeExpired(Date.now(), options?.dryRun === true)
    options?.onProgress?.(this.groups.size, this.groups.size)
    return expired
  }

  /**
   * Hands the message to the oldest waiting receive, else queues it; false when the channel is full. A task
   * channel's message waits until `taskExpiryMs` (never, by default) instead of `expiryMs`, and its task reads
   * `queued` from now on.
   */
  private deliver(channel: string, message: Message): boolean {
    if (this.tasks.isTaskChannel(channel)) {
      const result = this.local.offerUntracked(channel, message, this.taskExpiresAt())
      if (result === DROPPED) return false
      this.tasks.recordQueued(channel, message)
      this.tasks.notifyQueued(channel)
      this.counters.sent++
      if (result === HANDED) this.counters.received++
      return true
    }
    const handed = this.local.handToWaiter(channel, message)
    if (!handed && !this.local.deliver(channel, message, Date.now() + this.options.expiryMs)) return false
    this.counters.sent++
    if (handed) this.counters.received++
    return true
  }

  /** A replayed history message: queued past capacity (see `groupAdd`), counted in `sent`. */
  private deliverReplayed(channel: string, message: Message): void {
    this.counters.sent++
    if (this.local.offer(channel, message, Date.now() + this.options.expiryMs, true) === HANDED) {
      this.counters.received++
    }
  }

  /** When a task queued now expires: `taskExpiryMs` from now, or never. */
  private taskExpiresAt(): number {
    const limit = this.tasks.options.taskExpiryMs
    return limit === undefined ? Number.POSITIVE_INFINITY : Date.now() + limit
  }

  /**
   * A delayed send, accepted (and counted in `sent`) now: at most `capacity` delayed messages wait per channel
   * (`ChannelFullError` past that, as for a full queue), and each joins its queue when due even if the queue
   * filled up meanwhile: nobody is left to refuse it to, so it is never dropped.
   */
  private sendLater(channel: string, message: Message, delayMs: number): void {
    const capacity = capacityFor(this.options, channel)
    if (this.delayed.waiting(channel) >= capacity) {
      this.counters.rejected++
      throw new ChannelFullError(channel, capacity)
    }
    this.delayed.schedule(Date.now() + delayMs, { channel, message, task: false })
    this.counters.sent++
    if (this.tasks.isTaskChannel(channel)) this.tasks.recordQueued(channel, message)
  }

  /**
   * A delayed message come due: it joins its queue past capacity (see `sendLater`); a task's waits until
   * `taskExpiryMs` (never, by default) and wakes an idle worker.
   */
  private deliverDelayed({ channel, message, task }: Delayed): void {
    if (task || this.tasks.isTaskChannel(channel)) {
      if (this.local.requeue(channel, message, this.taskExpiresAt())) this.counters.received++
      else this.tasks.notifyQueued(channel)
      return
    }
    if (this.local.offer(channel, message, Date.now() + this.options.expiryMs, true) === HANDED) {
      this.counters.received++
    }
  }

  /** Drops what expired, then delivers due delayed messages (the timer may run late; every call catches up). */
  private refresh(): void {
    const now = Date.now()
    this.purgeExpired(now)
    this.delayed.deliverDue(now)
  }

  /** Drops expired messages (removing their channels from every group) and expired memberships. */
  private purgeExpired(now: number): void {
    this.local.purgeExpired(now)
    this.groups.purgeExpired(now)
    this.history.purgeExpired(now)
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new LayerClosedError(operation)
  }
}
