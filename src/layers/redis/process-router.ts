import { DROPPED, HANDED, type OfferResult } from '../local-channels.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { freezeMessage } from './frozen-message.js'
import { groupOfProxy, positionInPrefix } from './history/history-wire.js'
import type { InboundContext } from './inbound-context.js'

/** Marks a compact group copy: the receiving process fans it out to its own members of this group. */
export const GROUP_ROUTING_KEY = '__switchyard_group__'

/**
 * Where a message Inbound popped from one of this process's queues goes: a group copy to the local members behind
 * the queue it came through, a history group's copy to them through the recovery holds, any other message to the
 * local channels it names. Inbound decides what to read and when; this runs for every message and every member.
 */
export class ProcessRouter {
  constructor(private readonly ctx: InboundContext) {}

  /** Routes popped process-queue messages: `entries` alternates member and score, as ZPOPMIN replies. */
  routeEntries(nonLocal: string, entries: readonly Buffer[]): void {
    for (let i = 0; i + 1 < entries.length; i += 2) {
      const member = entries[i]
      const score = entries[i + 1]
      if (member !== undefined && score !== undefined) this.routeProcessMessage(nonLocal, member, score)
    }
  }

  /** Undefined (counted and logged) when `member` does not decode: that message is dropped, not the read. */
  decode(member: Buffer): Record<string, unknown> | undefined {
    try {
      return this.ctx.serializer.decode(member)
    } catch (err) {
      this.ctx.counters.decodeFailed++
      this.ctx.log.warn({ err }, 'dropped a message that could not be decoded')
      return undefined
    }
  }

  /** `nonLocal`: the process queue the message came through (`specific.<id>!`), the prefix of its members. */
  private routeProcessMessage(nonLocal: string, member: Buffer, score: Buffer): void {
    const expiresAt = Number(score.toString()) * 1000 + this.ctx.expiryMs
    const decoded = this.decode(member)
    if (decoded === undefined) return
    if (expiresAt <= Date.now()) {
      this.ctx.counters.expired++
      return
    }
    const group = decoded[GROUP_ROUTING_KEY]
    const target = decoded[RESERVED_ROUTING_KEY]
    const { local } = this.ctx
    const historyGroup = groupOfProxy(target)
    if (historyGroup !== undefined) {
      const message = freezeMessage(decoded, [RESERVED_ROUTING_KEY], positionInPrefix(historyGroup, member))
      for (const channel of this.ctx.localGroups.membersBehind(nonLocal, historyGroup, this.ctx.groupExpiryMs)) {
        if (!this.ctx.holds.capture(channel, historyGroup, message, expiresAt)) {
          this.count(local.offer(channel, message, expiresAt))
        }
      }
      return
    }
    const message = freezeMessage(decoded, [GROUP_ROUTING_KEY, RESERVED_ROUTING_KEY])
    if (typeof group === 'string') {
      // One shared frozen message for every member. Each of this process's queues with members got its own copy
      // (one per newChannel prefix), so this one is for the members behind its queue only.
      for (const channel of this.ctx.localGroups.membersBehind(nonLocal, group, this.ctx.groupExpiryMs)) {
        this.count(local.offer(channel, message, expiresAt))
      }
      return
    }
    for (const channel of Array.isArray(target) ? (target as unknown[]) : [target]) {
      if (typeof channel !== 'string' || !this.ctx.isLocal(channel)) continue
      this.count(local.offer(channel, message, expiresAt))
    }
  }

  /** Counts what an offer to a local channel did (received, or dropped at capacity). */
  count(result: OfferResult): void {
    if (result === HANDED) this.ctx.counters.received++
    else if (result === DROPPED) this.ctx.counters.dropped++
  }
}
