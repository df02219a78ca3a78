import type { Message } from './channel-layer.js'

/**
 * Takes the messages a `ListeningReceiver` hands over: one plain object (a consumer's run loop), registered for one
 * message at a time, so a consumer waiting on its channel holds no promise, closure or AbortSignal.
 */
export interface ChannelListener {
  /**
   * The channel's next message, taken and counted as received. The listener is no longer registered: it calls
   * `listen` again when it can take another, and until then messages queue on the channel as they do for `receive`
   * (bounded by its capacity).
   */
  channelMessage(message: Message): void
  /** The layer closed while the listener was registered: no message follows. */
  channelClosed(error: unknown): void
}

/**
 * A layer that can hand the messages of its own process-specific channels (`newChannel()` names) to a listener,
 * in place of a pending `receive` with its promise and AbortSignal (docs/channel-layer-spec.md, "Extensions").
 * Ordering, capacity and counting are `receive`'s: a listener is one more waiter on the channel.
 */
export interface ListeningReceiver {
  /**
   * Hands `channel`'s next message to `listener`, once: at once (synchronously) if one is queued, else when one
   * arrives. Returns false and registers nothing when the channel cannot be listened to here (not one of this
   * layer's own process-specific channels, or the layer is closed): `receive` is the way then, and says why.
   */
  listen(channel: string, listener: ChannelListener): boolean
  /**
   * Cancels `listener`'s registration on `channel`. True if it was still registered (no message was handed to it:
   * any that arrives later stays queued); false if it was not, e.g. its message was already handed over.
   */
  unlisten(channel: string, listener: ChannelListener): boolean
}

/** The layer's `listen` and `unlisten`, if it has them. */
export function listeningReceiverOf(layer: object): ListeningReceiver | undefined {
  const candidate = layer as Partial<ListeningReceiver>
  return typeof candidate.listen === 'function' && typeof candidate.unlisten === 'function'
    ? (layer as ListeningReceiver)
    : undefined
}
