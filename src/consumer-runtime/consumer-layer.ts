import type {
  ChannelLayer,
  GroupAddOptions,
  GroupAddResult,
  GroupHistory,
  GroupHistoryOptions,
  LayerStats,
  Message,
  ReceiveOptions,
} from '../layers/channel-layer.js'
import { listeningReceiverOf, type ChannelListener, type ListeningReceiver } from '../layers/channel-listener.js'
import type { Logger } from '../logger.js'
import { ConsumerPresence } from './consumer-presence.js'

/**
 * The layer as a consumer sees it (`this.channelLayer`): the shared layer, plus a record of the groups this
 * consumer's own channel joined, however it joined them (`static groups` or a `groupAdd` inside `connect()`), so
 * they are all left when the consumer ends, even if it crashed. Channels leaks groups joined in `connect()`. So
 * are the presence lists its channel joined (`presence`, issue 16).
 */
export class ConsumerLayer implements ChannelLayer, ListeningReceiver {
  /**
   * An array, replaced on change: a consumer joins a group or two, and an exact-size array of one costs about a
   * third of a Set's smallest table on every idle connection. Made with `concat`, which sizes it exactly: a spread
   * (`[...joined, group]`) leaves room for 16 more (146 bytes, not 24, per idle connection on Node 20).
   */
  private joined: readonly string[] = []
  /** Made on first use of `presence`: most connections never touch it. */
  private consumerPresence: ConsumerPresence | undefined

  constructor(
    readonly inner: ChannelLayer,
    /** The consumer's own channel: the groups it joins with it are the ones recorded. */
    readonly ownChannel: string,
  ) {}

  /** Groups this consumer's channel is in, as far as this consumer has asked. */
  get groups(): readonly string[] {
    return [...this.joined]
  }

  /** The layer's presence, recording what this consumer's own channel joins so it is left at the end. */
  get presence(): ConsumerPresence {
    this.consumerPresence ??= new ConsumerPresence(this.inner, this.ownChannel)
    return this.consumerPresence
  }

  send(channel: string, message: Message): Promise<void> {
    return this.inner.send(channel, message)
  }

  receive(channel: string, options?: ReceiveOptions): Promise<Message> {
    return this.inner.receive(channel, options)
  }

  /** The inner layer's `listen`; false when it has none (a layer with only `ChannelLayer`): use `receive`. */
  listen(channel: string, listener: ChannelListener): boolean {
    return listeningReceiverOf(this.inner)?.listen(channel, listener) ?? false
  }

  unlisten(channel: string, listener: ChannelListener): boolean {
    return listeningReceiverOf(this.inner)?.unlisten(channel, listener) ?? false
  }

  newChannel(prefix?: string): Promise<string> {
    return this.inner.newChannel(prefix)
  }

  async groupAdd(group: string, channel: string, options?: GroupAddOptions): Promise<GroupAddResult> {
    const result = await this.inner.groupAdd(group, channel, options)
    if (channel === this.ownChannel && !this.joined.includes(group)) this.joined = this.joined.concat(group)
    return result
  }

  groupHistory(group: string, options?: GroupHistoryOptions): Promise<GroupHistory> {
    return this.inner.groupHistory(group, options)
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    await this.inner.groupDiscard(group, channel)
    if (channel === this.ownChannel) this.forget(group)
  }

  groupSend(group: string, message: Message): Promise<void> {
    return this.inner.groupSend(group, message)
  }

  flush(): Promise<void> {
    return this.inner.flush()
  }

  /** A no-op: the layer is shared by every consumer and closed by whoever created it. */
  async close(): Promise<void> {
    // Deliberately empty; see above.
  }

  stats(): LayerStats {
    return this.inner.stats()
  }

  /**
   * Leaves every group and presence list joined through this consumer; one failure does not stop the others.
   * Failures are logged to `owner.log`, read only then (a consumer makes its logger on first use).
   */
  async leaveAll(owner: { readonly log: Logger }): Promise<void> {
    for (const group of this.joined) {
      try {
        await this.groupDiscard(group, this.ownChannel)
      } catch (err) {
        this.forget(group)
        owner.log.warn({ err, group }, 'could not leave group')
      }
    }
    // After the groups, so its own presence.leave does not land in its queue, which nobody reads any more.
    await this.consumerPresence?.leaveAll(() => owner.log)
  }

  private forget(group: string): void {
    this.joined = this.joined.filter((joined) => joined !== group)
  }
}
