import type { Logger } from '../../../logger.js'
import { RESERVED_ROUTING_KEY } from '../../message-validation.js'
import type { GroupSendResult } from '../group-send.js'
import type { Decoder } from '../inbound.js'
import type { RedisShard } from '../redis-shard.js'
import { runHistoryLease } from '../scripts/history-scripts.js'
import { shardAt } from '../shard-at.js'
import type { HistorySettings } from '../../history/history-options.js'
import { groupOfProxy, PROXY_QUEUE_NAME } from './history-wire.js'

/** What the pump sends through (RedisHistory). */
export interface SequencingTarget {
  settingsOf(group: string): HistorySettings | undefined
  sendPayload(group: string, settings: HistorySettings, payload: Buffer, message: undefined): Promise<GroupSendResult>
}

export interface HistoryPumpContext {
  readonly shards: readonly RedisShard[]
  readonly history: SequencingTarget
  readonly decoder: Decoder
  readonly log: Logger
  /** This process's token for the lease (its client id). */
  readonly token: string
  readonly leaseMs: number
  readonly expiryMs: number
  /** Whether the layer keeps any history (without, it never takes the lease). */
  readonly enabled: boolean
  shardOf(name: string): number
  /** The proxy queue joins or leaves this process's blocking read. */
  onHoldingChange(): void
  onSent(group: string, result: GroupSendResult): void
  onExpired(): void
  onUnroutable(): void
}

/**
 * Takes Django's group sends to history groups out of the proxy queue (history-wire.ts) and sequences them. One
 * process at a time holds the lease (renewed with its heartbeat), so they are sequenced in the order they came;
 * when it dies, another takes over once the lease runs out. The holder's inbound reader blocks on the proxy queue
 * with its other keys, and hands what it pops here.
 */
export class HistoryPump {
  private holding = false
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly ctx: HistoryPumpContext) {}

  /** The proxy queue key, when this process holds the lease and the queue lives on shard `index`. */
  keysFor(index: number): readonly string[] {
    if (!this.holding || index !== this.ctx.shardOf(PROXY_QUEUE_NAME)) return []
    return [this.proxyShard().keys.queue(PROXY_QUEUE_NAME)]
  }

  isProxyQueue(key: string): boolean {
    return key === this.proxyShard().keys.queue(PROXY_QUEUE_NAME)
  }

  private proxyShard(): RedisShard {
    return shardAt(this.ctx.shards, this.ctx.shardOf(PROXY_QUEUE_NAME))
  }

  /** Takes or renews the lease (with the heartbeat). */
  async renew(): Promise<void> {
    const { ctx } = this
    if (!ctx.enabled) return
    let holding = false
    const shard = this.proxyShard()
    try {
      holding = await shard.call(
        (client) => runHistoryLease(client, shard.keys, { token: ctx.token, leaseMs: ctx.leaseMs }),
        { idempotent: true },
      )
    } catch (err) {
      ctx.log.debug({ err }, 'could not renew the history pump lease')
    }
    if (holding !== this.holding) {
      this.holding = holding
      ctx.onHoldingChange()
    }
  }

  /** A payload popped from the proxy queue: sequenced after the ones before it. */
  take(payload: Buffer, score: Buffer): void {
    this.chain = this.chain.then(() => this.sequence(payload, score))
  }

  /** Resolves once everything taken so far is sequenced. */
  async idle(): Promise<void> {
    await this.chain
  }

  private async sequence(payload: Buffer, score: Buffer): Promise<void> {
    const { ctx } = this
    if (Number(score.toString()) * 1000 + ctx.expiryMs <= Date.now()) {
      ctx.onExpired()
      return
    }
    let group: string | undefined
    try {
      group = groupOfProxy(ctx.decoder.decode(payload)[RESERVED_ROUTING_KEY])
    } catch (err) {
      ctx.log.warn({ err }, 'dropped a group send to a history group that could not be decoded')
    }
    const settings = group === undefined ? undefined : ctx.history.settingsOf(group)
    if (group === undefined || settings === undefined) {
      // Every process sharing the groups needs the same `history`: this one does not know this group's.
      ctx.onUnroutable()
      ctx.log.warn({ group }, 'dropped a group send to a group this process keeps no history for')
      return
    }
    try {
      ctx.onSent(group, await ctx.history.sendPayload(group, settings, payload, undefined))
    } catch (err) {
      ctx.onUnroutable()
      ctx.log.error({ err, group }, 'could not sequence a group send to a history group')
    }
  }
}
