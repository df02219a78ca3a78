import { HistoryNotEnabledError, InvalidOptionError } from '../../../errors.js'
import type { Logger } from '../../../logger.js'
import type { GroupAddResult, GroupHistory, GroupHistoryOptions, Message } from '../../channel-layer.js'
import { historyFor, type HistorySettings } from '../../history/history-options.js'
import { historyQuery } from '../../history/history-requests.js'
import type { StreamPosition } from '../../history/positions.js'
import type { LocalChannels, OfferResult } from '../../local-channels.js'
import { RESERVED_ROUTING_KEY } from '../../message-validation.js'
import { freezeMessage } from '../frozen-message.js'
import {
  channelsRedisTargets,
  deliverTargets,
  type GroupSendContext,
  type GroupSendResult,
  type Target,
} from '../group-send.js'
import type { LocalGroups } from '../local-groups.js'
import type { RedisClient, RedisShard } from '../redis-shard.js'
import { historyMembersName } from '../keys.js'
import { queueTtlMs } from '../redis-options.js'
import {
  runHistoryJoin,
  runHistoryRead,
  runHistorySend,
  type HistoryGroupArgs,
  type HistoryJoinReply,
} from '../scripts/history-scripts.js'
import type { Decoder } from '../inbound.js'
import type { MessageSerializer } from '../serializer.js'
import { HistoryPump } from './history-pump.js'
import { shardAt } from '../shard-at.js'
import { RecoveryHolds } from './recovery-holds.js'
import { groupOfProxy, newEpoch, positionInPrefix, proxyMember, withPositionPrefix } from './history-wire.js'

export interface RedisHistoryContext {
  readonly sending: GroupSendContext
  readonly serializer: MessageSerializer
  readonly local: LocalChannels
  readonly localGroups: LocalGroups
  readonly log: Logger
  /** This process's token for the pump's lease (its client id). */
  readonly token: string
  isLocal(channel: string): boolean
  /** The pump's queue joins or leaves this process's blocking read. */
  onPumpChange(): void
  /** The pump sent a Django group send on. */
  onPumped(group: string, result: GroupSendResult): void
  onExpired(): void
  /** A pumped group send could not be sequenced (counted as a drop). */
  onUnroutable(): void
  /** Counts what an offer to a local channel did. */
  onOffer(result: OfferResult): void
  /** Records the membership for this process's upkeep (owner-groups entries) and runs `join` on the group's shard. */
  addMembership<T>(group: string, channel: string, join: (client: RedisClient) => Promise<T>): Promise<T>
}

/**
 * Group history on Redis (layer option `history`): sequenced sends, joins that recover what a channel missed,
 * and reads. See history-wire.ts for how messages and positions travel, Django's included.
 */
export class RedisHistory {
  readonly holds = new RecoveryHolds()
  readonly pump: HistoryPump
  /** Decodes kept payloads, which may be older than a message's expiry (Fernet checks the age). */
  private readonly decoder: Decoder
  private readonly shards: readonly RedisShard[]

  constructor(private readonly ctx: RedisHistoryContext) {
    const { options, shards } = ctx.sending
    this.shards = shards
    this.decoder = ctx.serializer.withExpiry(Math.max(options.expiryMs, ...options.history.map((rule) => rule.ttlMs)))
    this.pump = new HistoryPump({
      shards,
      history: this,
      decoder: ctx.serializer,
      log: ctx.log,
      token: ctx.token,
      leaseMs: 2 * options.heartbeatIntervalMs + 1_000,
      expiryMs: options.expiryMs,
      enabled: options.history.length > 0,
      shardOf: (name) => ctx.sending.shardOf(name),
      onHoldingChange: () => {
        ctx.onPumpChange()
      },
      onSent: (group, result) => {
        ctx.onPumped(group, result)
      },
      onExpired: () => {
        ctx.onExpired()
      },
      onUnroutable: () => {
        ctx.onUnroutable()
      },
    })
  }

  /** The history settings of `group`, undefined when it keeps none. */
  settingsOf(group: string): HistorySettings | undefined {
    const { history } = this.ctx.sending.options
    return history.length === 0 ? undefined : historyFor(history, group)
  }

  /** The name `group`'s memberships are kept under in Redis: its own, or its Switchyard members' for history. */
  memberSetName(group: string): string {
    return this.settingsOf(group) === undefined ? group : historyMembersName(group)
  }

  /** `groupSend` to a history group. */
  send(group: string, settings: HistorySettings, message: Message): Promise<GroupSendResult> {
    const payload = this.ctx.sending.encode({ ...message, [RESERVED_ROUTING_KEY]: [proxyMember(group)] })
    return this.sendPayload(group, settings, payload, message)
  }

  /**
   * Sequences, keeps and delivers an encoded payload addressed to the group's proxy: a Node send, or a Django
   * group send the pump took from the proxy queue (`message` undefined: decoded here for channels_redis-format
   * copies, if any are needed).
   */
  async sendPayload(
    group: string,
    settings: HistorySettings,
    payload: Buffer,
    message: Message | undefined,
  ): Promise<GroupSendResult> {
    const { sending } = this.ctx
    const { options } = sending
    const now = Date.now()
    const shard = this.groupShard(group)
    const { keys } = shard
    const reply = await shard.call((client) =>
      runHistorySend(client, keys, {
        ...this.groupArgs(group, settings, now),
        payload,
        proxy: proxyMember(group),
        groupExpiryMs: options.groupExpiryMs,
        staleAfterMs: options.staleAfterMs,
        expiryMs: options.expiryMs,
        queueTtlMs: queueTtlMs(options.expiryMs),
        processQueueCapacity: options.processQueueCapacity,
      }),
    )
    const sequenced = withPositionPrefix(payload, reply.offset, reply.epoch)
    const targets: Target[] = []
    for (const channel of reply.plain) {
      targets.push({
        queue: keys.queue(channel),
        payload: sequenced,
        capacity: sending.capacityOf(channel),
        expiring: channel,
        members: 1,
      })
    }
    if (reply.others.length > 0) {
      const plain = message ?? freezeMessage(this.decoder.decode(payload), [RESERVED_ROUTING_KEY])
      targets.push(...channelsRedisTargets(sending, reply.others, plain))
    }
    const delivered =
      targets.length === 0 ? { reached: 0, dropped: 0 } : await deliverTargets(sending, keys, targets, now)
    return { reached: reply.reached + delivered.reached, dropped: reply.dropped + delivered.dropped }
  }

  /**
   * `groupAdd` on a history group. A local channel's live messages of the group are held while the script runs,
   * then it gets the replay (with `recover`), then what was held after the boundary: in order, none twice.
   */
  async join(
    group: string,
    channel: string,
    settings: HistorySettings,
    from: StreamPosition | undefined,
  ): Promise<GroupAddResult> {
    const local = this.ctx.isLocal(channel)
    if (from !== undefined && !local) {
      throw new InvalidOptionError('recover', 'used with a channel of this layer (from its newChannel())', channel)
    }
    // A member refreshing its membership keeps getting what it got: only a new member (or a recovery, whose
    // replay holds everything up to the boundary) starts at the boundary.
    const holding =
      local &&
      !this.holds.isHolding(channel, group) &&
      (from !== undefined || !this.ctx.localGroups.groupsOf(channel).includes(group))
    if (holding) this.holds.hold(channel, group)
    if (local) this.ctx.localGroups.add(group, channel)
    let reply: HistoryJoinReply
    try {
      reply = await this.ctx.addMembership(group, channel, this.joinScript(group, channel, settings, from))
    } catch (error) {
      if (holding) this.deliverHeld(channel, group, undefined)
      throw error
    }
    if (local && reply.recovered === true) this.replay(channel, group, reply.missed)
    if (holding) this.deliverHeld(channel, group, reply.offset)
    const position = { offset: reply.offset, epoch: reply.epoch }
    return reply.recovered === undefined ? { position } : { position, recovered: reply.recovered }
  }

  /** The script call of a join (a re-add after reconnecting passes no `recover`). */
  joinScript(
    group: string,
    channel: string,
    settings: HistorySettings,
    recover: StreamPosition | undefined,
  ): (client: RedisClient) => Promise<HistoryJoinReply> {
    const { options } = this.ctx.sending
    const { keys } = this.groupShard(group)
    return (client) =>
      runHistoryJoin(client, keys, {
        ...this.groupArgs(group, settings, Date.now()),
        channel,
        proxy: proxyMember(group),
        groupExpiryMs: options.groupExpiryMs,
        recover,
      })
  }

  /** `groupHistory`. */
  async read(group: string, options: GroupHistoryOptions | undefined): Promise<GroupHistory> {
    const query = historyQuery(options)
    const settings = this.settingsOf(group)
    if (settings === undefined) throw notEnabled(group)
    const { afterOffset } = query
    const limit = Math.min(query.limit, settings.size)
    const shard = this.groupShard(group)
    const reply = await shard.call(
      (client) =>
        runHistoryRead(client, shard.keys, {
          ...this.groupArgs(group, settings, Date.now()),
          afterOffset,
          limit,
        }),
      { idempotent: true },
    )
    const messages: Message[] = []
    for (const payload of reply.payloads) {
      const message = this.decodeKept(group, payload)
      if (message !== undefined) messages.push(message)
    }
    return { messages, position: { offset: reply.offset, epoch: reply.epoch } }
  }

  /** A kept or replayed payload as its members receive it, or undefined if it cannot be decoded (logged). */
  private decodeKept(group: string, payload: Buffer): Message | undefined {
    try {
      const decoded = this.decoder.decode(payload)
      if (groupOfProxy(decoded[RESERVED_ROUTING_KEY]) !== group) return undefined
      return freezeMessage(decoded, [RESERVED_ROUTING_KEY], positionInPrefix(group, payload))
    } catch (err) {
      this.ctx.log.warn({ err, group }, 'skipped a kept history message that could not be decoded')
      return undefined
    }
  }

  private replay(channel: string, group: string, payloads: readonly Buffer[]): void {
    const expiresAt = Date.now() + this.ctx.sending.options.expiryMs
    for (const payload of payloads) {
      const message = this.decodeKept(group, payload)
      // Past capacity: the channel asked for exactly these, and `size` bounds them.
      if (message !== undefined) this.ctx.onOffer(this.ctx.local.offer(channel, message, expiresAt, true))
    }
  }

  private deliverHeld(channel: string, group: string, boundary: number | undefined): void {
    for (const { message, expiresAt } of this.holds.release(channel, group, boundary)) {
      this.ctx.onOffer(this.ctx.local.offer(channel, message, expiresAt))
    }
  }

  private groupArgs(group: string, settings: HistorySettings, nowMs: number): HistoryGroupArgs {
    return {
      group,
      settings,
      positionTtlMs: Math.max(settings.ttlMs, this.ctx.sending.options.groupExpiryMs),
      epochCandidate: newEpoch(),
      nowMs,
    }
  }

  private groupShard(group: string): RedisShard {
    return shardAt(this.shards, this.ctx.sending.shardOf(group))
  }
}

export function notEnabled(group: string): HistoryNotEnabledError {
  return new HistoryNotEnabledError(
    `Group "${group}" keeps no history: add a pattern matching it to the layer option \`history\``,
  )
}
