import type { InputEvent, Receive } from '../application.js'
import type { ChannelLayer, Message } from '../layers/channel-layer.js'
import { Fifo } from '../layers/fifo.js'
import type { BufferedReceiver } from '../layers/local-channels.js'
import { StopConsumer } from '../control.js'

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

/** What the run loop asks of its consumer. */
export interface RunLoopHooks {
  /** Runs the message's handler (the consumer's `dispatch`). */
  dispatch(message: ConsumerMessage): Promise<void>
  /**
   * A handler threw something other than `StopConsumer` (`fromLayer`: handling a layer message); throwing here
   * ends the consumer with that error.
   */
  failed(error: unknown, message: ConsumerMessage, fromLayer: boolean): Promise<void>
  /** A layer message was not handled, and the consumer goes on (see `LayerRefusal`). */
  refused(message: Message, reason: LayerRefusal): void
  /** True once the consumer asked to stop after its current handler (`stop()`). */
  stopRequested(): boolean
  /** A layer message was taken off the channel as the consumer stopped: its handler never runs. */
  dropped(message: Message): void
}

/** Where layer messages come from; `buffered` hands over what is already in this process without a promise. */
export interface LayerSource {
  readonly layer: ChannelLayer
  readonly channel: string
  readonly buffered?: BufferedReceiver
}

/**
 * Two pumps feeding one consumer: client events, in order, one at a time; layer messages, up to `concurrency` in
 * hand at once (and, at 1, serialised with client events, as Channels does). The first error or stop ends both; a
 * client receive still pending then is abandoned, a layer receive is aborted.
 *
 * Built for a consumer that takes a burst: a message already buffered in this process is taken synchronously
 * (`takeBuffered`), and the serial lock is a flag with a FIFO of waiters, so a handled message costs its handler's
 * promises and little else.
 *
 * Built as well for many idle consumers: callbacks, not async pump loops and a stop race, so an idle consumer holds
 * its two pending receives and the promise `run()` returns rather than suspended generators; the waiters' FIFO is
 * made when first contended. Callbacks are methods reached through anonymous arrows: under tsx, esbuild's
 * `keepNames` gives every named function (an arrow field, an arrow named by its property) an own `name` property,
 * 256 bytes each per consumer.
 */
export class RunLoop {
  error: Error | undefined
  private done = false
  private controller: AbortController | undefined
  private receiveClient: Receive | undefined
  private source: LayerSource | undefined
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
  private resolveRun: (() => void) | undefined

  constructor(
    private readonly hooks: RunLoopHooks,
    private readonly concurrency: number,
  ) {}

  /** Resolves once the consumer stopped and the handlers in progress have finished. */
  run(receive: Receive, source: LayerSource | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolveRun = resolve
      this.receiveClient = receive
      this.pullClient()
      if (source !== undefined) {
        this.source = source
        this.controller = new AbortController()
        this.layerEnded = false
        this.pullLayer()
      }
    })
  }

  private finish(error?: unknown): void {
    if (this.done) return
    this.done = true
    if (error !== undefined && !(error instanceof StopConsumer)) {
      this.error =
        error instanceof Error ? error : new Error('consumer failed with a non-Error value', { cause: error })
    }
    if (this.clientWaiting) this.clientEnded = true
    this.controller?.abort()
    this.maybeDone()
  }

  private maybeDone(): void {
    if (!this.clientEnded || !this.layerEnded || this.layerInHand > 0) return
    const resolve = this.resolveRun
    this.resolveRun = undefined
    resolve?.()
  }

  /** Runs one message's handler unless the consumer has stopped. Never rejects. */
  private async handle(message: ConsumerMessage, fromLayer: boolean): Promise<void> {
    if (this.done) {
      if (fromLayer) this.hooks.dropped(message as Message)
      return
    }
    try {
      await this.hooks.dispatch(message)
    } catch (error) {
      await this.handlerFailed(error, message, fromLayer)
      return
    }
    if (this.hooks.stopRequested()) this.finish()
  }

  /** A handler threw: `StopConsumer` stops; anything else goes to the consumer's `dispatchFailed`. */
  private async handlerFailed(error: unknown, message: ConsumerMessage, fromLayer: boolean): Promise<void> {
    if (error instanceof StopConsumer) {
      this.finish()
      return
    }
    try {
      await this.hooks.failed(error, message, fromLayer)
    } catch (failure) {
      this.finish(failure)
      return
    }
    if (this.hooks.stopRequested()) this.finish()
  }

  /** Handles `message` holding the serial lock: at once when it is free, else after the earlier waiters (FIFO). */
  private serially(message: ConsumerMessage, fromLayer: boolean): Promise<void> {
    let handled: Promise<void>
    if (!this.serialBusy) {
      this.serialBusy = true
      handled = this.handle(message, fromLayer)
    } else {
      handled = new Promise<void>((resolve) => {
        ;(this.serialWaiters ??= new Fifo()).push(resolve)
      }).then(() => this.handle(message, fromLayer))
    }
    return handled.then(() => {
      this.releaseSerial()
    })
  }

  private releaseSerial(): void {
    const next = this.serialWaiters?.shift()
    if (next === undefined) this.serialBusy = false
    else next()
  }

  private pullClient(): void {
    const receive = this.receiveClient
    if (this.done || receive === undefined) {
      this.clientEnded = true
      this.maybeDone()
      return
    }
    this.clientWaiting = true
    let next: Promise<InputEvent>
    try {
      next = receive()
    } catch (error) {
      next = Promise.reject(error)
    }
    next.then(
      (event) => {
        this.onClientEvent(event)
      },
      (error: unknown) => {
        this.onClientError(error)
      },
    )
  }

  private onClientEvent(event: InputEvent): void {
    this.clientWaiting = false
    // Abandoned when the consumer stopped: an event that arrives after the stop is not handled.
    if (this.clientEnded) return
    if (this.serialBusy || this.done) {
      void this.serially(event, false).then(() => {
        this.pullClient()
      })
      return
    }
    // The common case, `serially` + `handle` inlined: one `then` on the handler's promise, not four promise hops.
    this.serialBusy = true
    let handled: Promise<void>
    try {
      handled = this.hooks.dispatch(event)
    } catch (error) {
      handled = Promise.reject(error)
    }
    handled.then(
      () => {
        if (this.hooks.stopRequested()) this.finish()
        this.releaseSerial()
        this.pullClient()
      },
      (error: unknown) => {
        void this.handlerFailed(error, event, false).then(() => {
          this.releaseSerial()
          this.pullClient()
        })
      },
    )
  }

  private onClientError(error: unknown): void {
    this.clientWaiting = false
    if (this.clientEnded) return
    this.clientEnded = true
    this.finish(error)
    this.maybeDone()
  }

  private pullLayer(): void {
    const { source, controller } = this
    if (this.done || source === undefined || controller === undefined) {
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
    const buffered = source.buffered?.takeBuffered(source.channel)
    if (buffered !== undefined) {
      this.onLayerMessage(buffered)
      return
    }
    let next: Promise<Message>
    try {
      next = source.layer.receive(source.channel, { signal: controller.signal })
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
      this.hooks.refused(message, 'client event type')
      this.layerInHand--
      this.pullLayer()
      return
    }
    const task = this.concurrency === 1 ? this.serially(message, true) : this.handle(message, true)
    void task.then(() => {
      this.onLayerMessageHandled()
    })
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
