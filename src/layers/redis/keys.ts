import { isProcessSpecific, nonLocalName } from '../names.js'

/**
 * The only place Redis keys are built. Channel queues and groups use channels_redis 4.x names exactly (no
 * separator between prefix and channel: `asgi` + `chat` is `asgichat`; groups are `asgi:group:<name>`), so Django
 * and Node share them. Switchyard's own bookkeeping lives under `<prefix>:switchyard:`, which no channel name can
 * reach (names cannot contain `:`).
 *
 * A script that finds names as it runs (a channel in the delayed index, a group in an owner-groups set, a task id
 * in its arguments) cannot get their keys as KEYS: it builds each as one of the `…Prefix` strings below followed
 * by the name, passed in as an argument. The methods here build the same keys from the same prefixes, so the two
 * cannot drift apart.
 */
const HISTORY_MEMBERS_SUFFIX = ':members'

/**
 * The name under which a history group's Switchyard members are kept: `<group>:members`, which no group can
 * be called (names have no `:`). Its key is `group(name)` and owner-groups sets record this name, so every
 * script that removes a channel from "its groups" (expiry, sweeps, discard) reaches these members unchanged.
 */
export function historyMembersName(group: string): string {
  return group + HISTORY_MEMBERS_SUFFIX
}

/** The group an owner-groups entry or group-key name stands for (`historyMembersName`'s inverse). */
export function groupOfEntry(entry: string): string {
  return entry.endsWith(HISTORY_MEMBERS_SUFFIX) ? entry.slice(0, -HISTORY_MEMBERS_SUFFIX.length) : entry
}

export class RedisKeys {
  readonly groupPrefix: string
  readonly ownerGroupsPrefix: string
  readonly registry: string
  /** A queue's key is this and the channel's non-local name (channels_redis: the layer prefix itself). */
  readonly queuePrefix: string
  readonly delayedPrefix: string
  readonly wakePrefix: string
  /** Everything Switchyard keeps besides channels_redis' queues and groups lives under this. */
  readonly bookkeepingPrefix: string

  constructor(readonly prefix: string) {
    this.groupPrefix = `${prefix}:group:`
    this.ownerGroupsPrefix = `${prefix}:switchyard:owner-groups:`
    this.registry = `${prefix}:switchyard:processes`
    this.queuePrefix = prefix
    this.delayedPrefix = `${prefix}:switchyard:delayed:`
    this.wakePrefix = `${prefix}:switchyard:wake:`
    this.bookkeepingPrefix = `${prefix}:switchyard:`
  }

  /** The queue of a channel: one per normal channel, one per process for `…!…` channels. */
  queue(channel: string): string {
    return this.queuePrefix + nonLocalName(channel)
  }

  /** The name behind a queue key (`queue`'s inverse): a normal channel, or a process's non-local name. */
  queueName(queue: string): string {
    return queue.slice(this.queuePrefix.length)
  }

  group(group: string): string {
    return this.groupPrefix + group
  }

  /** Who owns a channel's memberships: its process (`specific.x!`) or the channel itself. */
  owner(channel: string): string {
    return nonLocalName(channel)
  }

  ownerGroups(channel: string): string {
    return this.ownerGroupsPrefix + this.owner(channel)
  }

  // Group history (layer option `history`); see history/history-wire.ts. All of a group's keys share its shard.
  /** A history group's kept messages: a sorted set scored by offset, members `<sent ms>|<payload>`. */
  history(group: string): string {
    return `${this.prefix}:switchyard:history:${group}`
  }

  /** A history group's position: a hash { offset, epoch }. */
  historyPosition(group: string): string {
    return `${this.prefix}:switchyard:history-position:${group}`
  }

  /** Who may take Django's group sends to history groups out of the proxy queue (history-pump.ts). */
  get historyPumpLease(): string {
    return `${this.prefix}:switchyard:history-pump`
  }

  /**
   * Dead processes being swept out of their groups, a bounded step at a time: process queue key -> the lease of
   * whoever sweeps it (`<until ms> <sweeper's queue key>`). Kept until the sweep ends, so another process finishes
   * one whose sweeper died.
   */
  get sweeping(): string {
    return `${this.prefix}:switchyard:sweeping`
  }

  // Group presence (layer option `presence`, issue 16); see group-presence.ts. Both live on the group's shard.
  /** A group's presence list: a hash channel -> `<joinedAt ms> <refreshedAt ms> <info JSON>`. */
  presence(group: string): string {
    return `${this.prefix}:switchyard:presence:${group}`
  }

  /** The groups where a process (`specific.x!`) has presence entries, for sweeping them when it dies. */
  ownerPresence(channel: string): string {
    return `${this.prefix}:switchyard:owner-presence:${this.owner(channel)}`
  }

  // At-least-once task bookkeeping (RetryingConsumer), per channel; see tasks/redis-task-store.ts.
  inflight(channel: string): string {
    return `${this.prefix}:switchyard:inflight:${channel}`
  }

  stalled(channel: string): string {
    return `${this.prefix}:switchyard:stalled:${channel}`
  }

  delayed(channel: string): string {
    return this.delayedPrefix + channel
  }

  /**
   * Marks a task channel for every process on the prefix (set by workers and by senders that declare it; no TTL):
   * sends to it then never prune the queue or give it a TTL, and record the task as queued.
   */
  taskChannel(channel: string): string {
    return `${this.prefix}:switchyard:task-channel:${channel}`
  }

  /** A task channel's rate limit, a hash `{ max, perMs }` (no TTL): the last worker to declare one sets it. */
  rateLimit(channel: string): string {
    return `${this.prefix}:switchyard:rate-limit:${channel}`
  }

  /**
   * A rate-limited channel's sliding-window log: a sorted set of the claims started in the last window, scored by
   * Redis' clock (ms), expiring one window after the last start.
   */
  rateWindow(channel: string): string {
    return `${this.prefix}:switchyard:rate-window:${channel}`
  }

  /**
   * A task channel's wake-up marker: a sorted set of one member that Switchyard senders add and idle workers
   * block on (BZPOPMIN), so a worker waits for work without polling.
   */
  wake(channel: string): string {
    return this.wakePrefix + channel
  }

  /** The channel of a wake marker key (`wake`'s inverse), or undefined when `key` is not one. */
  wakeChannel(key: string): string | undefined {
    return key.startsWith(this.wakePrefix) ? key.slice(this.wakePrefix.length) : undefined
  }

  get delayedIndex(): string {
    return `${this.prefix}:switchyard:delayed-index`
  }

  get taskStatePrefix(): string {
    return `${this.prefix}:switchyard:task:`
  }

  taskState(taskId: string): string {
    return this.taskStatePrefix + taskId
  }

  deadLetters(channel: string): string {
    return `${this.prefix}:switchyard:dead:${channel}`
  }

  /** A channel's dead letters are hashes under this prefix, by id (`deadLetter`). */
  deadLetterPrefix(channel: string): string {
    return `${this.deadLetters(channel)}:`
  }

  deadLetter(channel: string, id: string): string {
    return this.deadLetterPrefix(channel) + id
  }

  /** The worker registry: worker id -> its last report as JSON, with the time it came (`beatAt`). */
  get workers(): string {
    return `${this.prefix}:switchyard:workers`
  }

  /** The server registry: server id -> its last report as JSON, with the time it came (`beatAt`). */
  get servers(): string {
    return `${this.prefix}:switchyard:servers`
  }

  /**
   * A chain or chord (issue 17): a hash { kind, spec (JSON), status, createdAt, updatedAt, done, done:<i> }, on
   * the shard its id hashes to (flow-update.lua).
   */
  flow(flowId: string): string {
    return `${this.prefix}:switchyard:flow:${flowId}`
  }

  /**
   * Flow steps that ended, on the shard of their channel: a sorted set of step tags (`<flow id> <index>`) whose
   * flow has not yet moved on, scored by when (task-settle.lua, task-cancel.lua, flow-outbox.lua).
   */
  get flowOutbox(): string {
    return `${this.prefix}:switchyard:flow-outbox`
  }

  /** The schedule index (issue 17): a sorted set of schedule ids scored by next run ms. */
  get schedules(): string {
    return `${this.prefix}:switchyard:schedules`
  }

  /** A schedule: a hash { spec (JSON), nextRunMs, lastRunMs }. */
  schedule(id: string): string {
    return `${this.prefix}:switchyard:schedule:${id}`
  }

  get deadChannels(): string {
    return `${this.prefix}:switchyard:dead-channels`
  }

  /** The channel name scripts remove from groups when its messages expire; '' for process queues. */
  expiringMember(channel: string): string {
    return isProcessSpecific(channel) ? '' : channel
  }
}
