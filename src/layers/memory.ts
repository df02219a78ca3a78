import { randomBytes } from 'node:crypto'

import { ChannelFullError, ChannelNotLocalError, InvalidChannelNameError, LayerClosedError } from '../errors.js'
import type { ChannelLayer, LayerStats, Message, ReceiveOptions } from './channel-layer.js'
import { DropReporter } from './drop-reporter.js'
import { capacityFor, resolveLayerOptions, type LayerOptions, type ResolvedLayerOptions } from './layer-options.js'
import { LayerCounters } from './layer-stats.js'
import { LocalChannels } from './local-channels.js'
import { prepareMessage } from './message-validation.js'
import { assertChannelName, assertGroupName, isProcessSpecific, MAX_NAME_LENGTH, nonLocalName } from './names.js'

interface Membership {
  readonly group: string
  readonly channel: string
  readonly addedAt: number
}

/**
 * A channel layer inside one process, with Channels' semantics: FIFO per channel, capacity, per-message expiry
 * (an expired message also removes its channel from every group), group membership expiring `groupExpiryMs`
 * after the last `groupAdd`, and `groupSend` that skips full channels and counts the drop.
 *
 * Good for development, tests and single-process apps (server and worker together); use the Redis layer to span
 * processes. Received messages are deep-frozen copies shared by every member of a group send.
 *
 * Expiry is lazy and O(1) per message: every call first drops what has expired, so there are no timers to leak.
 *
 * @example
 * ```ts
 * const layer = new InMemoryChannelLayer({ capacity: 100, channelCapacity: { 'jobs.*': 1000 } })
 * await layer.send('jobs.email', { type: 'email.send', userId: 42 })
 * const message = await layer.receive('jobs.email')
 * ```
 */
export class InMemoryChannelLayer implements ChannelLayer {
  readonly options: ResolvedLayerOptions
  /** Ends every name `newChannel()` returns, before the `!`: how `receive` knows a name is ours. */
  private readonly clientId = randomBytes(16).toString('hex')
  /** Channels' queues and pending receives; with one `expiryMs`, arrival order is also expiry order. */
  private readonly local: LocalChannels
  private readonly groups = new Map<string, Map<string, Membership>>()
  /** Memberships in last-add order, which with one `groupExpiryMs` is also expiry order. */
  private readonly memberships = new Map<string, Membership>()
  /** channel -> its groups, so an expired message can remove its channel from every group without a scan. */
  private readonly channelGroups = new Map<string, Set<string>>()
  private readonly counters = new LayerCounters()
  private readonly drops: DropReporter
  private closed = false

  constructor(options?: LayerOptions) {
    this.options = resolveLayerOptions(options)
    this.drops = new DropReporter(this.options.logger.child({ layer: 'memory' }))
    this.local = new LocalChannels(
      (channel) => capacityFor(this.options, channel),
      ({ channel }) => {
        this.counters.expired++
        this.removeFromAllGroups(channel)
      },
    )
  }

  async send(channel: string, message: Message): Promise<void> {
    this.assertOpen('send')
    assertChannelName(channel)
    const prepared = prepareMessage(message, this.options.maxMessageBytes)
    this.purgeExpired()
    if (!this.deliver(channel, prepared.message)) {
      this.counters.rejected++
      throw new ChannelFullError(channel, capacityFor(this.options, channel))
    }
  }

  async receive(channel: string, options?: ReceiveOptions): Promise<Message> {
    this.assertOpen('receive')
    assertChannelName(channel)
    if (isProcessSpecific(channel) && !nonLocalName(channel).endsWith(`.${this.clientId}!`)) {
      throw new ChannelNotLocalError(channel)
    }
    const signal = options?.signal
    signal?.throwIfAborted()
    this.purgeExpired()
    const message = this.local.take(channel)
    if (message !== undefined) {
      this.counters.received++
      return message
    }
    return this.local.wait(channel, signal)
  }

  async newChannel(prefix = 'specific'): Promise<string> {
    this.assertOpen('create a channel')
    assertGroupName(prefix)
    const name = `${prefix}.${this.clientId}!${randomBytes(16).toString('hex')}`
    if (name.length >= MAX_NAME_LENGTH) {
      throw new InvalidChannelNameError('channel', name, `the prefix "${prefix}" is too long for a channel name`)
    }
    return name
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    this.assertOpen('add to a group')
    assertGroupName(group)
    assertChannelName(channel)
    const key = membershipKey(group, channel)
    const membership = { group, channel, addedAt: Date.now() }
    // Delete first so the refreshed membership moves to the end: the map stays in expiry order.
    this.memberships.delete(key)
    this.memberships.set(key, membership)
    let members = this.groups.get(group)
    if (members === undefined) {
      members = new Map()
      this.groups.set(group, members)
    }
    members.set(channel, membership)
    let joined = this.channelGroups.get(channel)
    if (joined === undefined) {
      joined = new Set()
      this.channelGroups.set(channel, joined)
    }
    joined.add(group)
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.assertOpen('discard from a group')
    assertGroupName(group)
    assertChannelName(channel)
    this.removeMembership(group, channel)
  }

  async groupSend(group: string, message: Message): Promise<void> {
    this.assertOpen('send to a group')
    assertGroupName(group)
    const prepared = prepareMessage(message, this.options.maxMessageBytes)
    this.purgeExpired()
    this.counters.groupSends++
    const members = this.groups.get(group)
    if (members === undefined) return
    let dropped = 0
    // Channels spec: group_send never raises ChannelFull; a full member misses this message.
    for (const channel of [...members.keys()]) {
      if (!this.deliver(channel, prepared.message)) dropped++
    }
    if (dropped > 0) {
      this.counters.dropped += dropped
      this.drops.record(group, dropped)
    }
  }

  async flush(): Promise<void> {
    this.assertOpen('flush')
    this.local.clear()
    this.clearGroups()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.local.rejectAll(new LayerClosedError('receive'))
    this.clearGroups()
  }

  stats(): LayerStats {
    this.purgeExpired()
    return this.counters.snapshot()
  }

  /** Hands the message to the oldest waiting receive, else queues it; false when the channel is full. */
  private deliver(channel: string, message: Message): boolean {
    const handed = this.local.handToWaiter(channel, message)
    if (!handed && !this.local.deliver(channel, message, Date.now() + this.options.expiryMs)) return false
    this.counters.sent++
    if (handed) this.counters.received++
    return true
  }

  /** Drops expired messages (removing their channels from every group) and expired memberships. */
  private purgeExpired(): void {
    const now = Date.now()
    this.local.purgeExpired(now)
    const cutoff = now - this.options.groupExpiryMs
    for (const membership of this.memberships.values()) {
      if (membership.addedAt > cutoff) break
      this.removeMembership(membership.group, membership.channel)
    }
  }

  private removeFromAllGroups(channel: string): void {
    const joined = this.channelGroups.get(channel)
    if (joined === undefined) return
    for (const group of [...joined]) this.removeMembership(group, channel)
  }

  private removeMembership(group: string, channel: string): void {
    this.memberships.delete(membershipKey(group, channel))
    const joined = this.channelGroups.get(channel)
    joined?.delete(group)
    if (joined?.size === 0) this.channelGroups.delete(channel)
    const members = this.groups.get(group)
    if (members === undefined) return
    members.delete(channel)
    if (members.size === 0) this.groups.delete(group)
  }

  private clearGroups(): void {
    this.groups.clear()
    this.memberships.clear()
    this.channelGroups.clear()
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new LayerClosedError(operation)
  }
}

function membershipKey(group: string, channel: string): string {
  // Names never contain a space, so the pair is unambiguous.
  return `${group} ${channel}`
}
