import type { Message } from './channel-layer.js'

/**
 * A layer that can hand over a message already buffered in this process synchronously, without the promise a
 * `receive` costs: a consumer draining a burst of group messages takes them one after another in one tick.
 */
export interface BufferedReceiver {
  /**
   * The channel's oldest buffered message, taken (and counted as received), or undefined when there is none or the
   * channel cannot be read from here: then `receive` is the way (it also reports why).
   */
  takeBuffered(channel: string): Message | undefined
}

/** The layer's `takeBuffered`, if it has one. */
export function bufferedReceiverOf(layer: object): BufferedReceiver | undefined {
  return typeof (layer as Partial<BufferedReceiver>).takeBuffered === 'function'
    ? (layer as BufferedReceiver)
    : undefined
}
