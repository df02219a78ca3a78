import { reportGroupSend } from '../../diagnostics.js'
import type { DropReporter } from '../../drop-reporter.js'
import type { Logger } from '../../logger.js'
import type { GroupAddOptions, GroupAddResult, GroupHistory, GroupHistoryOptions, Message } from '../channel-layer.js'
import { recoverOption } from '../history/history-requests.js'
import { capacityFor } from '../layer-options.js'
import type { LocalChannels } from '../local-channels.js'
import { prepareMessage } from '../message-validation.js'
import { RedisGroupPresence } from './group-presence.js'
import { sendToGroup, type GroupSendContext, type GroupSendResult } from './group-send.js'
import { notEnabled, RedisHistory } from './history/redis-history.js'
import type { Inbound } from './inbound.js'
import type { LocalGroups } from './local-groups.js'
import type { ProcessPresence } from './presence.js'
import type { ResolvedRedisOptions } from './redis-options.js'
import type { RedisShard } from './redis-shard.js'
import type { RedisCounters } from './redis-stats.js'
import type { MessageSerializer } from './serializer.js'
import { consistentHash } from './shard.js'
import { shardForGroup } from './shard-at.js'

export interface RedisGroupsContext {
  readonly shards: readonly RedisShard[]
  readonly options: ResolvedRedisOptions
  readonly serializer: MessageSerializer
  readonly local: LocalChannels
  readonly localGroups: LocalGroups
  readonly counters: RedisCounters
  readonly drops: DropReporter
  readonly log: Logger
  readonly clientId: string
  isLocal(channel: string): boolean
  // Made after this (they need its history): read when called.
  processPresence(): ProcessPresence
  inbound(): Inbound
  assertOpen(operation: string): void
  isClosed(): boolean
  /**
   * Resolves once this process's first heartbeat is in Redis. A history group's copies reach a process in
   * Switchyard's format (with positions) only once it is known live, and presence lists only show live processes'
   * channels: a join waits for it (once; at once afterwards).
   */
  registered(): Promise<void>
}

/**
 * The Redis layer's group operations, names already checked: memberships (with this process's upkeep in
 * ProcessPresence), group sends (compact copies, group-send.ts) and, for groups matching the option `history`,
 * sequenced sends, recovering joins and reads (history/).
 */
export class RedisGroups {
  readonly sending: GroupSendContext
  readonly history: RedisHistory
  /** Who is in a group (the option `presence`). */
  readonly presence: RedisGroupPresence

  constructor(private readonly ctx: RedisGroupsContext) {
    const { shards, options, serializer } = ctx
    this.presence = new RedisGroupPresence({
      options,
      log: ctx.log,
      shardForGroup: (group) => shardForGroup(shards, group),
      assertOpen: (operation) => {
        ctx.assertOpen(operation)
      },
      isClosed: () => ctx.isClosed(),
      registered: () => ctx.registered(),
      groupSend: (group, message) => this.send(group, message),
    })
    this.sending = {
      shards,
      options,
      encode: (body) => serializer.encode(body),
      shardOf: (name) => consistentHash(name, shards.length),
      capacityOf: (channel) => capacityFor(options, channel),
      leaveGroups: (channel) => ctx.processPresence().leaveGroups(channel),
    }
    this.history = new RedisHistory({
      sending: this.sending,
      serializer,
      local: ctx.local,
      localGroups: ctx.localGroups,
      log: ctx.log,
      token: ctx.clientId,
      isLocal: (channel) => ctx.isLocal(channel),
      addMembership: (group, channel, join) => ctx.processPresence().addMembership(group, channel, join),
      onOffer: (result) => {
        ctx.inbound().count(result)
      },
      onPumpChange: () => {
        ctx.inbound().keysChanged()
      },
      onPumped: (group, result) => {
        this.count(group, result)
      },
      onExpired: () => {
        ctx.counters.expired++
      },
      onUnroutable: () => {
        ctx.counters.dropped++
      },
    })
  }

  async add(group: string, channel: string, options: GroupAddOptions | undefined): Promise<GroupAddResult> {
    const recover = recoverOption(options)
    const settings = this.history.settingsOf(group)
    if (settings !== undefined) {
      if (this.ctx.isLocal(channel)) await this.ctx.registered()
      return this.history.join(group, channel, settings, recover)
    }
    if (recover !== undefined) throw notEnabled(group)
    if (this.ctx.isLocal(channel)) this.ctx.localGroups.add(group, channel)
    await this.ctx.processPresence().addMembership(group, channel)
    return {}
  }

  /** Re-adds a membership after Redis may have lost it (a history group's through history-join.lua). */
  async rejoin(group: string, channel: string): Promise<void> {
    const settings = this.history.settingsOf(group)
    const presence = this.ctx.processPresence()
    if (settings === undefined) await presence.addMembership(group, channel)
    else await presence.addMembership(group, channel, this.history.joinScript(group, channel, settings, undefined))
  }

  async discard(group: string, channel: string): Promise<void> {
    this.ctx.localGroups.remove(group, channel)
    await this.ctx.processPresence().removeMembership(group, channel)
  }

  async send(group: string, message: Message): Promise<void> {
    const prepared = prepareMessage(message, this.ctx.options.maxMessageBytes)
    this.ctx.counters.groupSends++
    const settings = this.history.settingsOf(group)
    const result =
      settings === undefined
        ? await sendToGroup(this.sending, group, prepared.message)
        : await this.history.send(group, settings, prepared.message)
    this.count(group, result)
  }

  read(group: string, options: GroupHistoryOptions | undefined): Promise<GroupHistory> {
    return this.history.read(group, options)
  }

  /** A local channel's message expired unread: the channel leaves its groups here and in Redis. */
  async leaveLocal(channel: string): Promise<void> {
    for (const group of this.ctx.localGroups.groupsOf(channel)) {
      try {
        await this.discard(group, channel)
      } catch (err) {
        this.ctx.log.warn({ err, group }, 'could not leave a group after expiry')
      }
    }
  }

  private count(group: string, result: GroupSendResult): void {
    const { counters } = this.ctx
    counters.sent += result.reached
    reportGroupSend(result.reached)
    if (result.dropped > 0) {
      counters.dropped += result.dropped
      this.ctx.drops.record(group, result.dropped)
    }
  }
}
