import type { ChannelLayer } from '../layers/channel-layer.js'
import type { GroupPresence, PresenceEntry, PresenceInfo } from '../layers/presence/presence-types.js'
import type { Logger } from '../logger.js'

/**
 * The layer's `presence` as a consumer sees it: the shared one, plus a record of the groups where this consumer's
 * own channel joined presence, so it leaves them when the consumer ends (issue 16: "a connection's presence ends
 * when it disconnects"). Made on first use by `ConsumerLayer`: a connection that never joins presence pays nothing.
 */
export class ConsumerPresence implements GroupPresence {
  /** An array replaced on change, as ConsumerLayer's groups (a consumer joins one or two). */
  private joined: readonly string[] = []

  constructor(
    private readonly inner: ChannelLayer,
    private readonly ownChannel: string,
  ) {}

  /** Groups where this consumer's channel is present, as far as this consumer has asked. */
  get groups(): readonly string[] {
    return [...this.joined]
  }

  async join(group: string, channel: string, info?: PresenceInfo): Promise<void> {
    await this.inner.presence.join(group, channel, info)
    if (channel === this.ownChannel && !this.joined.includes(group)) this.joined = this.joined.concat(group)
  }

  async leave(group: string, channel: string): Promise<void> {
    await this.inner.presence.leave(group, channel)
    if (channel === this.ownChannel) this.forget(group)
  }

  list(group: string): Promise<PresenceEntry[]> {
    return this.inner.presence.list(group)
  }

  /** Leaves every presence list joined through this consumer; one failure does not stop the others. */
  async leaveAll(log: () => Logger): Promise<void> {
    for (const group of this.joined) {
      try {
        await this.leave(group, this.ownChannel)
      } catch (err) {
        this.forget(group)
        log().warn({ err, group }, 'could not leave presence')
      }
    }
  }

  private forget(group: string): void {
    this.joined = this.joined.filter((joined) => joined !== group)
  }
}
