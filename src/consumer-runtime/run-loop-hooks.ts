import type { InputEvent } from '../application.js'
import type { ChannelLayer, Message } from '../layers/channel-layer.js'
import type { BufferedReceiver } from '../layers/buffered-receiver.js'

/** What a consumer handles: client events from the server and messages from its layer channel. */
export type ConsumerMessage = InputEvent | Message

/**
 * Why a layer message was not handled: it carried a client event type (`websocket.*`, `http.*`: client events
 * come only from the socket, never through the layer, where anyone who can send could forge them), or no
 * handler takes its type.
 */
export type LayerRefusal = 'client event type' | 'no handler'

/** Client event types: what the server alone delivers. A layer message of such a type is refused. */
export function isClientEventType(type: unknown): boolean {
  return typeof type === 'string' && (type.startsWith('websocket.') || type.startsWith('http.'))
}

/**
 * What the run loop asks of its consumer `C`: one object shared by every consumer of a class (the consumer is passed
 * in), so a consumer owns no object of callbacks.
 */
export interface RunLoopHooks<C> {
  /** Runs the message's handler (the consumer's `dispatch`). */
  dispatch(consumer: C, message: ConsumerMessage): Promise<void>
  /**
   * Sends a layer message the consumer forwards as it is, with no handler (`static forward`), and returns that
   * send; undefined when the consumer does not forward its type. Called in the message's turn, as `dispatch` would be.
   */
  forward(consumer: C, message: Message): Promise<void> | undefined
  /**
   * A handler threw something other than `StopConsumer` (`fromLayer`: handling a layer message); throwing here
   * ends the consumer with that error.
   */
  failed(consumer: C, error: unknown, message: ConsumerMessage, fromLayer: boolean): Promise<void>
  /** A layer message was not handled, and the consumer goes on (see `LayerRefusal`). */
  refused(consumer: C, message: Message, reason: LayerRefusal): void
  /** True once the consumer asked to stop after its current handler (`stop()`). */
  stopRequested(consumer: C): boolean
  /** A layer message was taken off the channel as the consumer stopped: its handler never runs. */
  dropped(consumer: C, message: Message): void
  /**
   * The loop has ended (`error`: why, unless it stopped normally) and no handler runs: what `run()`'s promise
   * becomes (the consumer leaves its groups, then ends as the loop did).
   */
  ended(consumer: C, error: Error | undefined): Promise<void>
}

/**
 * Where layer messages come from: `layer` hands them to the run loop if it can (`ListeningReceiver`, as
 * `ConsumerLayer` does for the layers that have it), else the loop awaits `receive`; `buffered` hands over what is
 * already in this process without a promise.
 */
export interface LayerSource {
  readonly layer: ChannelLayer
  readonly channel: string
  readonly buffered?: BufferedReceiver
}

/** What a run loop starts with, once its consumer is bound to the connection. */
export interface LoopStart {
  /** Where layer messages come from; undefined without a layer (client events only). */
  readonly source: LayerSource | undefined
  /** Layer messages handled at once, at most. */
  readonly concurrency: number
}
