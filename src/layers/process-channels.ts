import { randomBytes } from 'node:crypto'

import { InvalidChannelNameError } from '../errors.js'
import type { Message } from './channel-layer.js'
import type { ChannelListener } from './channel-listener.js'
import type { LayerCounters } from './layer-stats.js'
import type { LocalChannels } from './local-channels.js'
import { assertGroupName, isChannelName, isProcessSpecific, MAX_NAME_LENGTH } from './names.js'

/** A name `newChannel` gave, and its non-local part (`<prefix>.<client id>!`), which names its process. */
export interface ProcessChannelName {
  readonly name: string
  readonly nonLocal: string
}

/**
 * The process-specific channels of one layer instance, as both layers name and read them: Channels'
 * `new_channel` names, `<prefix>.<client id>!<random>`, whose client id tells a receive that a name is its own,
 * the synchronous take of `BufferedReceiver`, counted as a receive, and the listeners of `ListeningReceiver`.
 *
 * @example
 * ```ts
 * const channels = new ProcessChannels(local, counters)
 * const { name } = channels.newName('specific') // 'specific.<32 hex>!<32 hex>'
 * channels.take(name) // undefined until a message is queued for it
 * ```
 */
export class ProcessChannels {
  /** 32 hex characters, as channels_redis' client prefix: names this layer instance's channels. */
  readonly clientId = randomBytes(16).toString('hex')
  readonly #ownSuffix = `.${this.clientId}!`

  constructor(
    private readonly local: LocalChannels,
    private readonly counters: LayerCounters,
  ) {}

  /** A fresh name under `prefix`; throws `InvalidChannelNameError` for a bad prefix or one too long to fit. */
  newName(prefix: string): ProcessChannelName {
    assertGroupName(prefix)
    const nonLocal = `${prefix}${this.#ownSuffix}`
    const name = nonLocal + randomBytes(16).toString('hex')
    if (name.length >= MAX_NAME_LENGTH) {
      throw new InvalidChannelNameError('channel', name, `the prefix "${prefix}" is too long for a channel name`)
    }
    return { name, nonLocal }
  }

  /** Whether a name is process-specific without this instance's client id (whatever its prefix): not ours to read. */
  isElsewhere(channel: string): boolean {
    return isProcessSpecific(channel) && !this.isOwn(channel)
  }

  /** Whether a name is one this instance gave (`newName`, whatever its prefix). */
  isOwn(channel: string): boolean {
    // `nonLocalName(channel).endsWith(suffix)` without the substring: a consumer asks once per message it handles.
    const bang = channel.indexOf('!')
    const suffix = this.#ownSuffix
    return bang >= suffix.length - 1 && channel.startsWith(suffix, bang + 1 - suffix.length)
  }

  /**
   * `ListeningReceiver.listen` for this instance's channels: the oldest queued message at once, else the next one
   * handed over, as a `receive`; false for any other name (an invalid one included: `receive` says what is wrong).
   */
  listen(channel: string, listener: ChannelListener): boolean {
    // A consumer back for its next message, its name checked when it first listened: once per delivery.
    let message = this.local.takeOrListenAgain(channel, listener)
    if (message === undefined) {
      if (!this.isOwn(channel) || !isChannelName(channel)) return false
      message = this.local.takeOrListen(channel, listener) ?? null
    }
    if (message !== null) {
      this.counters.received++
      listener.channelMessage(message)
    }
    return true
  }

  unlisten(channel: string, listener: ChannelListener): boolean {
    return this.local.unlisten(channel, listener)
  }

  /** The channel's oldest buffered message, taken and counted as received; undefined when there is none. */
  take(channel: string): Message | undefined {
    const message = this.local.take(channel)
    if (message !== undefined) this.counters.received++
    return message
  }
}
