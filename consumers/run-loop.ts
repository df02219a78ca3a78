import type { InputEvent, Receive } from '../src/application.js'
import type { ChannelLayer, Message } from '../src/layers/channel-layer.js'
import { Fifo } from '../src/layers/fifo.js'
import type { BufferedReceiver } from '../src/layers/local-channels.js'
import { StopConsumer } from './control.js'
import { Semaphore } from './semaphore.js'

/** What a consumer handles: client events from the server and messages from its layer channel. */
export type ConsumerMessage = InputEvent | Message

/** What the run loop asks of its consumer. */
export interface RunLoopHooks {
  /** Runs the message's handler (the consumer's `dispatch`). */
  dispatch(message: ConsumerMessage): Promise<void>
  /** A handler threw something other than `StopConsumer`; throwing here ends the consumer with that error. */
  failed(error: unknown, message: ConsumerMessage): Promise<void>
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
 * hand at once (and, at 1, serialised with client events, as Channels does). The first error or stop ends both.
 *
 * Built for a consumer that takes a burst: a message already buffered in this process is taken synchronously
 * (`takeBuffered`), the serial lock is a flag with a FIFO of waiters, and the stop is raced once per run rather
 * than once per event, so a handled message costs its handler's promises and little else.
 */
export class RunLoop {
  error: Error | undefined
  private done = false
  private readonly stopped = new AbortController()
  private readonly stoppedPromise: Promise<void>
  private resolveStopped: (() => void) | undefined
  /** Held by the client event or (at concurrency 1) the layer message being handled; waiters in arrival order. */
  private serialBusy = false
  private readonly serialWaiters = new Fifo<() => void>()
  private clientTask: Promise<void> | undefined
  private readonly inflight = new Set<Promise<void>>()

  constructor(
    private readonly hooks: RunLoopHooks,
    private readonly concurrency: number,
  ) {
    this.stoppedPromise = new Promise((resolve) => (this.resolveStopped = resolve))
  }

  /** Resolves once the consumer stopped and the handlers in progress have finished. */
  async run(receive: Receive, source: LayerSource | undefined): Promise<void> {
    const client = this.clientPump(receive)
    const layer =
      source === undefined
        ? undefined
        : this.concurrency === 1
          ? this.serialLayerPump(source)
          : this.concurrentLayerPump(source)
    // The client pump may be parked in a receive that never settles once the consumer stopped: it is abandoned.
    await Promise.race([client, this.stoppedPromise])
    await layer
    await this.clientTask
    await Promise.allSettled([...this.inflight])
  }

  // A method, not a field read, so a loop re-reads it after every await.
  private isDone(): boolean {
    return this.done
  }

  private finish(error?: unknown): void {
    if (this.done) return
    this.done = true
    if (error !== undefined && !(error instanceof StopConsumer)) {
      this.error =
        error instanceof Error ? error : new Error('consumer failed with a non-Error value', { cause: error })
    }
    this.stopped.abort()
    this.resolveStopped?.()
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
      await this.handlerFailed(error, message)
      return
    }
    if (this.hooks.stopRequested()) this.finish()
  }

  /** A handler threw: `StopConsumer` stops; anything else goes to the consumer's `dispatchFailed`. */
  private async handlerFailed(error: unknown, message: ConsumerMessage): Promise<void> {
    if (error instanceof StopConsumer) {
      this.finish()
      return
    }
    try {
      await this.hooks.failed(error, message)
    } catch (failure) {
      this.finish(failure)
      return
    }
    if (this.hooks.stopRequested()) this.finish()
  }

  /** Takes the serial lock: synchronously when free (undefined), else a promise resolved when it is handed over. */
  private acquireSerial(): Promise<void> | undefined {
    if (!this.serialBusy) {
      this.serialBusy = true
      return undefined
    }
    return new Promise((resolve) => {
      this.serialWaiters.push(resolve)
    })
  }

  private releaseSerial(): void {
    const next = this.serialWaiters.shift()
    if (next === undefined) this.serialBusy = false
    else next()
  }

  private async clientPump(receive: Receive): Promise<void> {
    while (!this.done) {
      let event: InputEvent
      try {
        event = await receive()
      } catch (error) {
        this.finish(error)
        return
      }
      // An event that arrives after the stop is not handled, as when the receive was abandoned.
      if (this.isDone()) return
      const wait = this.acquireSerial()
      if (wait !== undefined) await wait
      const task = this.handle(event, false)
      this.clientTask = task
      await task
      this.clientTask = undefined
      this.releaseSerial()
    }
  }

  /** One layer message in hand, handled between client events; buffered ones are taken without a promise. */
  private async serialLayerPump({ layer, channel, buffered }: LayerSource): Promise<void> {
    const signal = this.stopped.signal
    while (!this.done) {
      let message = buffered?.takeBuffered(channel)
      if (message === undefined) {
        try {
          message = await layer.receive(channel, { signal })
        } catch (error) {
          // finish() ignores a second call, so an abort-caused rejection after a stop is harmless.
          this.finish(error)
          return
        }
      }
      const wait = this.acquireSerial()
      if (wait !== undefined) await wait
      // `handle`, inlined: one promise less per message, the pump's own await instead.
      if (this.isDone()) {
        this.hooks.dropped(message)
        this.releaseSerial()
        return
      }
      try {
        await this.hooks.dispatch(message)
        if (this.hooks.stopRequested()) this.finish()
      } catch (error) {
        await this.handlerFailed(error, message)
      }
      this.releaseSerial()
    }
  }

  private async concurrentLayerPump({ layer, channel, buffered }: LayerSource): Promise<void> {
    const slots = new Semaphore(this.concurrency)
    const signal = this.stopped.signal
    while (!this.done) {
      await slots.acquire()
      if (this.isDone()) return
      let message = buffered?.takeBuffered(channel)
      if (message === undefined) {
        try {
          message = await layer.receive(channel, { signal })
        } catch (error) {
          slots.release()
          this.finish(error)
          return
        }
      }
      const task = this.handle(message, true).finally(() => {
        slots.release()
        this.inflight.delete(task)
      })
      this.inflight.add(task)
    }
  }
}
