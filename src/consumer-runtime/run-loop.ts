import { SENT, type InputEvent, type Receive } from '../application.js'
import type { ChannelLayer, Message } from '../layers/channel-layer.js'
import { listeningReceiverOf, type ChannelListener } from '../layers/channel-listener.js'
import { Fifo } from '../layers/fifo.js'
import type { BufferedReceiver } from '../layers/buffered-receiver.js'
import { isClientEventType, type ConsumerMessage, type LoopStart, type RunLoopHooks } from './run-loop-hooks.js'
import { StopConsumer } from '../control.js'
import { clientFeedOf, type ClientEventListener, type ClientFeed } from './client-feed.js'

const RESOLVED: Promise<void> = Promise.resolve()

/**
 * What follows a handled message: the serial lock released and the next client event asked for, the lock released
 * and the layer slot freed, or (concurrency above 1, no lock held) the layer slot freed only.
 */
const SERIAL_NEXT_CLIENT = 0
const SERIAL_NEXT_LAYER = 1
const NEXT_LAYER = 2
type Next = typeof SERIAL_NEXT_CLIENT | typeof SERIAL_NEXT_LAYER | typeof NEXT_LAYER

const NOT_PULLING = 0
const PULLING = 1
const PULL_AGAIN = 2
type Pulling = typeof NOT_PULLING | typeof PULLING | typeof PULL_AGAIN

/**
 * Two pumps feeding one consumer: client events, in order, one at a time; layer messages, up to `concurrency` in
 * hand at once (and, at 1, serialised with client events, as Channels does). The first error or stop ends both; a
 * client receive still pending then is abandoned, a layer receive is aborted.
 *
 * Built for a consumer that takes a burst: a message already buffered in this process is taken synchronously
 * (`takeBuffered`), and the serial lock is a flag with a FIFO of waiters, so a handled message costs its handler's
 * promises and little else.
 *
 * Built as well for many idle consumers (docs/performance/idle-connections.md): callbacks, not async pump loops, so
 * an idle consumer holds no suspended generator; client events come from the server's feed (`ClientFeed`) and layer
 * messages from the layer (`ListeningReceiver.listen`), which hold this loop while it waits rather than a pending
 * promise and an AbortSignal (a layer without `listen` is awaited with `receive`, as before); the hooks are one
 * object per consumer class; the waiters' FIFO is made when first contended; and `run()`'s promise is the
 * consumer's only one.
 */
export class RunLoop<C> implements ClientEventListener, ChannelListener {
  error: Error | undefined
  private done = false
  /** Cancels a layer `receive`: made only for a layer the loop cannot listen to. */
  private controller: AbortController | undefined
  /** Where client events come from: the server's feed when it gave one, else the `receive` to await. */
  private client: ClientFeed | Receive | undefined
  // The layer source's parts, not the `LayerSource` object: one object fewer for every idle consumer.
  private layer: ChannelLayer | undefined
  private channel: string | undefined
  private buffered: BufferedReceiver | undefined
  private concurrency = 1
  /** A client receive is pending; when the consumer stops it is abandoned (its outcome ignored). */
  private clientWaiting = false
  private clientEnded = false
  private layerEnded = true
  /** Layer messages being received or handled: each holds one of `concurrency` slots. */
  private layerInHand = 0
  /** The layer pump waits for a free slot. */
  private layerBlocked = false
  /** Held by the client event or (at concurrency 1) the layer message being handled; waiters in arrival order. */
  private serialBusy = false
  private serialWaiters: Fifo<() => void> | undefined
  /** Whether `pullLayer` is running, and whether it was asked again meanwhile (one field: idle consumers are many). */
  private pulling: Pulling = NOT_PULLING
  private resolveRun: ((ended: Promise<void>) => void) | undefined

  constructor(
    private readonly consumer: C,
    private readonly hooks: RunLoopHooks<C>,
  ) {}

  /**
   * Runs once `starting` resolves (the consumer bound to its connection); settles as `hooks.ended` does, once the
   * consumer stopped and the handlers in progress have finished. Rejects as `starting` does if it rejects.
   */
  run(receive: Receive, starting: Promise<LoopStart>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolveRun = resolve
      starting.then(
        (start) => {
          this.start(receive, start)
        },
        (error: unknown) => {
          this.resolveRun = undefined
          resolve(Promise.reject(error))
        },
      )
    })
  }

  /** The next client event (`ClientEventListener`): handled, then the next one asked for. */
  clientEvent(event: InputEvent): void {
    this.clientWaiting = false
    // Abandoned when the consumer stopped: an event that arrives after the stop is not handled.
    if (this.clientEnded) return
    this.serially(event, false)
  }

  /** The client's events ended (the application was cancelled): the consumer ends with that error. */
  clientEventFailed(error: unknown): void {
    this.clientWaiting = false
    if (this.clientEnded) return
    this.clientEnded = true
    this.finish(error)
    this.maybeDone()
  }

  /** The layer's next message (`ChannelListener`): as one `receive` would have resolved with. */
  channelMessage(message: Message): void {
    this.onLayerMessage(message)
  }

  /** The layer closed while the loop listened: as a `receive` it would have rejected. */
  channelClosed(error: unknown): void {
    this.onLayerError(error)
  }

  private start(receive: Receive, { source, concurrency }: LoopStart): void {
    this.client = clientFeedOf(receive) ?? receive
    this.concurrency = concurrency
    this.pullClient()
    if (source !== undefined) {
      this.layer = source.layer
      this.channel = source.channel
      this.buffered = source.buffered
      this.layerEnded = false
      this.pullLayer()
    }
  }

  private finish(error?: unknown): void {
    if (this.done) return
    this.done = true
    if (error !== undefined && !(error instanceof StopConsumer)) {
      this.error =
        error instanceof Error ? error : new Error('consumer failed with a non-Error value', { cause: error })
    }
    if (this.clientWaiting) this.clientEnded = true
    // Still registered means no message was handed over: any that arrives now stays queued on the channel.
    if (!this.layerEnded && this.unlisten()) {
      this.layerInHand--
      this.layerEnded = true
    }
    this.controller?.abort()
    this.maybeDone()
  }

  private maybeDone(): void {
    if (!this.clientEnded || !this.layerEnded || this.layerInHand > 0) return
    const resolve = this.resolveRun
    this.resolveRun = undefined
    resolve?.(this.hooks.ended(this.consumer, this.error))
  }

  /**
   * Runs one message's handler unless the consumer has stopped, then does `next`. Not `async` (once per message):
   * the handler's promise gets one `then`, which also releases the lock and asks for the next message, where an
   * async function's promise, an `await` and a `then` per step each cost a promise per member of a fan-out.
   */
  private handle(message: ConsumerMessage, fromLayer: boolean, next: Next): void {
    if (this.done) {
      if (fromLayer) this.hooks.dropped(this.consumer, message as Message)
      void RESOLVED.then(() => {
        this.handled(next)
      })
      return
    }
    let handling: Promise<void>
    try {
      // A forwarded type goes out in its turn, as its handler would have run.
      const forwarding = fromLayer ? this.hooks.forward(this.consumer, message as Message) : undefined
      handling = forwarding ?? this.hooks.dispatch(this.consumer, message)
    } catch (error) {
      handling = Promise.reject(error)
    }
    this.settle(handling, message, fromLayer, next)
  }

  /**
   * Does `next` once `handling` (a message's handler, or its forwarding) has settled; a failure goes to the hooks.
   * A send the server did at once (`SENT`, a forwarded message's usually) is not waited on: the next message is taken
   * in this same turn, so a group message costs each forwarding member no promise or turn.
   */
  private settle(handling: Promise<void>, message: ConsumerMessage, fromLayer: boolean, next: Next): void {
    if (handling === SENT) {
      if (this.hooks.stopRequested(this.consumer)) this.finish()
      this.handled(next)
      return
    }
    void handling.then(
      () => {
        if (this.hooks.stopRequested(this.consumer)) this.finish()
        this.handled(next)
      },
      (error: unknown) =>
        this.handlerFailed(error, message, fromLayer).then(() => {
          this.handled(next)
        }),
    )
  }

  /** After a message was handled: the serial lock released (but for `NEXT_LAYER`), the next message asked for. */
  private handled(next: Next): void {
    if (next !== NEXT_LAYER) this.releaseSerial()
    if (next === SERIAL_NEXT_CLIENT) this.pullClient()
    else this.onLayerMessageHandled()
  }

  /** A handler threw: `StopConsumer` stops; anything else goes to the consumer's `dispatchFailed`. */
  private async handlerFailed(error: unknown, message: ConsumerMessage, fromLayer: boolean): Promise<void> {
    if (error instanceof StopConsumer) {
      this.finish()
      return
    }
    try {
      await this.hooks.failed(this.consumer, error, message, fromLayer)
    } catch (failure) {
      this.finish(failure)
      return
    }
    if (this.hooks.stopRequested(this.consumer)) this.finish()
  }

  /** Handles `message` holding the serial lock: at once when it is free, else after the earlier waiters (FIFO). */
  private serially(message: ConsumerMessage, fromLayer: boolean): void {
    const next = fromLayer ? SERIAL_NEXT_LAYER : SERIAL_NEXT_CLIENT
    if (!this.serialBusy) {
      this.serialBusy = true
      this.handle(message, fromLayer, next)
      return
    }
    ;(this.serialWaiters ??= new Fifo()).push(() => {
      this.handle(message, fromLayer, next)
    })
  }

  private releaseSerial(): void {
    const next = this.serialWaiters?.shift()
    if (next === undefined) this.serialBusy = false
    else next()
  }

  private pullClient(): void {
    const client = this.client
    if (this.done || client === undefined) {
      this.clientEnded = true
      this.maybeDone()
      return
    }
    this.clientWaiting = true
    if (typeof client !== 'function') {
      client.next(this)
      return
    }
    let next: Promise<InputEvent>
    try {
      next = client()
    } catch (error) {
      next = Promise.reject(error)
    }
    next.then(
      (event) => {
        this.clientEvent(event)
      },
      (error: unknown) => {
        this.clientEventFailed(error)
      },
    )
  }

  /**
   * Asks for the next layer message. A message handed over at once and forwarded asks for the next one in turn: those
   * asks are made by the outermost call's loop, not nested, so a full channel of forwarded messages is not a
   * recursion as deep as the channel.
   */
  private pullLayer(): void {
    if (this.pulling !== NOT_PULLING) {
      this.pulling = PULL_AGAIN
      return
    }
    try {
      do {
        this.pulling = PULLING
        this.pullLayerOnce()
        // Read again: the pull above may have set it (TypeScript's narrowing does not see that).
      } while ((this.pulling as Pulling) === PULL_AGAIN)
    } finally {
      this.pulling = NOT_PULLING
    }
  }

  private pullLayerOnce(): void {
    const { layer, channel } = this
    if (this.done || layer === undefined || channel === undefined) {
      this.layerEnded = true
      this.maybeDone()
      return
    }
    if (this.layerInHand >= this.concurrency) {
      this.layerBlocked = true
      return
    }
    this.layerInHand++
    // Taken only to be handled: a message is never taken once the consumer has stopped.
    let listening: boolean
    try {
      listening = listeningReceiverOf(layer)?.listen(channel, this) ?? false
    } catch (error) {
      this.onLayerError(error)
      return
    }
    if (listening) return
    const buffered = this.buffered?.takeBuffered(channel)
    if (buffered !== undefined) {
      this.onLayerMessage(buffered)
      return
    }
    this.receiveLayer(layer, channel)
  }

  /** Cancels this loop's registration on its layer channel; false if there was none. */
  private unlisten(): boolean {
    const { layer, channel } = this
    if (layer === undefined || channel === undefined) return false
    return listeningReceiverOf(layer)?.unlisten(channel, this) ?? false
  }

  /** The way for a layer that cannot hand messages to the loop: a `receive`, cancelled when the consumer stops. */
  private receiveLayer(layer: ChannelLayer, channel: string): void {
    const controller = (this.controller ??= new AbortController())
    let next: Promise<Message>
    try {
      next = layer.receive(channel, { signal: controller.signal })
    } catch (error) {
      next = Promise.reject(error)
    }
    next.then(
      (message) => {
        this.onLayerMessage(message)
      },
      (error: unknown) => {
        this.onLayerError(error)
      },
    )
  }

  private onLayerMessage(message: Message): void {
    if (isClientEventType(message.type)) {
      this.hooks.refused(this.consumer, message, 'client event type')
      this.layerInHand--
      this.pullLayer()
      return
    }
    if (this.concurrency === 1) this.serially(message, true)
    else this.handle(message, true, NEXT_LAYER)
    this.pullLayer()
  }

  private onLayerMessageHandled(): void {
    this.layerInHand--
    if (this.layerBlocked) {
      this.layerBlocked = false
      this.pullLayer()
    }
    this.maybeDone()
  }

  private onLayerError(error: unknown): void {
    this.layerInHand--
    this.layerEnded = true
    // finish() ignores a second call, so an abort-caused rejection after a stop is harmless.
    this.finish(error)
    this.maybeDone()
  }
}
