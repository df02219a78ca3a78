import type { Application, InputEvent, OutputEvent, Receive, Scope, Send } from '../src/application.js'
import { InvalidOptionError, NoChannelLayerError } from '../src/errors.js'
import type { ChannelLayer, Message } from '../src/layers/channel-layer.js'
import { defaultLogger, markLogged, type Logger } from '../src/logger.js'
import { reportConsumerMessageIn, reportConsumerMessageOut } from '../src/monitoring/metrics-sink.js'
import { ConsumerLayer } from './consumer-layer.js'
import { StopConsumer } from './control.js'
import { consumerName, findHandler } from './dispatch.js'
import { Semaphore } from './semaphore.js'

/** What a consumer handles: client events from the server and messages from its layer channel. */
export type ConsumerMessage = InputEvent | Message

/** A consumer class as `asApp` sees it: constructible without arguments. */
export type ConsumerConstructor<T extends AsyncConsumer> = new () => T

/**
 * The base of every consumer: one instance per connection (or background channel). It takes client events and
 * the messages sent to its own layer channel (`this.channelName`), and runs the method each message's `type`
 * names: `chat.message` runs `chat_message(message)`.
 *
 * Handlers run one at a time by default, as in Channels. Set `static concurrency = N` to let up to N layer
 * messages run at once (client events still run in order, one at a time).
 *
 * @example
 * ```ts
 * class Echo extends AsyncConsumer {
 *   async websocket_connect() { await this.baseSend({ type: 'websocket.accept' }) }
 *   async websocket_receive(event: WebsocketReceiveEvent) { await this.baseSend({ type: 'websocket.send', text: event.text }) }
 * }
 * await serve({ application: Echo.asApp(), layer })
 * ```
 */
export class AsyncConsumer {
  /** How many layer messages may be handled at once (client events are always handled in order). */
  static concurrency = 1

  /** The connection's scope: path, headers, `urlRoute`, `user`, ... */
  scope!: Scope
  /** A logger bound to `{ consumer, connId }`. Never log payloads through it. */
  log: Logger = defaultLogger()

  private layer: ConsumerLayer | undefined
  private ownChannel: string | undefined
  private sendToClient: Send | undefined
  private stopRequested = false

  /**
   * An application that creates one instance of this consumer per connection (Channels' `as_asgi()`). `init`
   * sets fields declared on the class; an unknown key is an error.
   */
  static asApp<T extends AsyncConsumer>(this: ConsumerConstructor<T>, init?: Partial<T>): Application {
    const app: Application = (scope, receive, send) => {
      const consumer = new this()
      if (init !== undefined) applyInit(consumer, init)
      return consumer.run(scope, receive, send)
    }
    Object.defineProperty(app, 'name', { value: `${this.name}.asApp` })
    return Object.assign(app, { consumerClass: this })
  }

  /** The layer given to the server, worker or communicator. Groups joined through it are left when this ends. */
  get channelLayer(): ChannelLayer {
    if (this.layer === undefined) throw noLayer(this, 'channelLayer')
    return this.layer
  }

  /** True when a channel layer was configured. */
  get hasChannelLayer(): boolean {
    return this.layer !== undefined
  }

  /** This consumer's own process-specific channel: send to it to reach this consumer. */
  get channelName(): string {
    if (this.ownChannel === undefined) throw noLayer(this, 'channelName')
    return this.ownChannel
  }

  /** Sends a raw protocol event to the client (Channels' `base_send`). */
  async baseSend(event: OutputEvent): Promise<void> {
    if (this.sendToClient === undefined) throw new Error('baseSend() called before the consumer started')
    await this.sendToClient(event)
    reportConsumerMessageOut(consumerName(this))
  }

  /** Runs the handler for `message.type`. */
  async dispatch(message: ConsumerMessage): Promise<void> {
    const handler = findHandler(this, message.type)
    reportConsumerMessageIn(consumerName(this))
    await handler.call(this, message as never)
  }

  /** Leaves every group this consumer's channel joined (it also happens automatically when the consumer ends). */
  protected async leaveGroups(): Promise<void> {
    await this.layer?.leaveAll()
  }

  /** Ends the consumer after the current handler returns (like throwing `StopConsumer`). */
  protected stop(): void {
    this.stopRequested = true
  }

  /**
   * The channel the run loop reads layer messages from: this consumer's own channel (`channelName`), or undefined
   * without a layer. `BackgroundConsumer` reads the named channel its worker serves instead.
   */
  protected layerChannel(): string | undefined {
    return this.ownChannel
  }

  /** How many layer messages may be handled at once: `static concurrency` unless a subclass knows better. */
  protected layerConcurrency(): number {
    return (this.constructor as typeof AsyncConsumer).concurrency
  }

  /**
   * Called when a handler throws anything but `StopConsumer`. The default re-throws, which ends the consumer with
   * that error (a WebSocket closes with 1011); an override that returns keeps the consumer running.
   */
  protected async dispatchFailed(error: unknown, _message: ConsumerMessage): Promise<void> {
    throw error
  }

  /**
   * Called for a layer message that was taken off the channel just as the consumer stopped, so its handler never
   * ran (the layer delivers at most once: it is gone). The default ignores it.
   */
  protected layerMessageDropped(_message: Message): void {
    // Nothing to do for a connection that has ended; BackgroundConsumer counts and logs these.
  }

  /** The run loop: the application body for one connection. Resolves when the consumer stops. */
  async run(scope: Scope, receive: Receive, send: Send): Promise<void> {
    await this.attach(scope, send)
    const concurrency = this.layerConcurrency()
    const loop = new RunLoop(
      (message) => this.handleOne(message),
      (message) => {
        this.layerMessageDropped(message)
      },
      concurrency,
    )
    try {
      await loop.run(receive, this.layer, this.layerChannel())
    } finally {
      await this.layer?.leaveAll()
    }
    if (loop.error !== undefined) {
      this.log.error({ err: loop.error }, 'consumer failed')
      markLogged(loop.error)
      throw loop.error
    }
  }

  /**
   * Binds the consumer to its connection: scope, logger, and (when a layer is configured) its own channel and the
   * group-tracking layer. Subclasses with their own run loop call it first.
   */
  protected async attach(scope: Scope, send: Send): Promise<void> {
    this.scope = scope
    this.sendToClient = send
    this.log = (scope.logger ?? defaultLogger()).child({ consumer: consumerName(this) })
    const layer = scope.channelLayer
    if (layer !== undefined) {
      this.ownChannel = await layer.newChannel()
      this.layer = new ConsumerLayer(layer, this.ownChannel, this.log)
    }
  }

  /** Dispatches one message; returns false when the consumer should stop. */
  private async handleOne(message: ConsumerMessage): Promise<boolean> {
    try {
      await this.dispatch(message)
    } catch (error) {
      if (error instanceof StopConsumer) throw error
      await this.dispatchFailed(error, message)
    }
    return !this.stopRequested
  }
}

/**
 * Two pumps feeding one consumer: client events, in order, one at a time; layer messages, up to `concurrency` in
 * hand at once (and, at 1, serialised with client events, as Channels does). The first error or stop ends both.
 */
class RunLoop {
  error: Error | undefined
  private readonly stopped = new AbortController()
  private readonly serial = new Semaphore(1)
  private readonly inflight = new Set<Promise<void>>()

  constructor(
    private readonly handle: (message: ConsumerMessage) => Promise<boolean>,
    private readonly dropped: (message: Message) => void,
    private readonly concurrency: number,
  ) {}

  async run(receive: Receive, layer: ChannelLayer | undefined, channel: string | undefined): Promise<void> {
    const pumps = [this.clientPump(receive)]
    if (layer !== undefined && channel !== undefined) pumps.push(this.layerPump(layer, channel))
    await Promise.all(pumps)
    await Promise.allSettled([...this.inflight])
  }

  private finish(error?: unknown): void {
    if (this.stopped.signal.aborted) return
    if (error !== undefined && !(error instanceof StopConsumer)) {
      this.error =
        error instanceof Error ? error : new Error('consumer failed with a non-Error value', { cause: error })
    }
    this.stopped.abort()
  }

  /** Runs one message unless the consumer has stopped; `onSkipped` reports a message that will never run. */
  private async dispatch(message: ConsumerMessage, onSkipped?: () => void): Promise<void> {
    if (this.stopped.signal.aborted) {
      onSkipped?.()
      return
    }
    try {
      if (!(await this.handle(message))) this.finish()
    } catch (error) {
      this.finish(error)
    }
  }

  private async clientPump(receive: Receive): Promise<void> {
    const stoppedPromise = new Promise<undefined>((resolve) => {
      this.stopped.signal.addEventListener(
        'abort',
        () => {
          resolve(undefined)
        },
        { once: true },
      )
    })
    while (!this.stopped.signal.aborted) {
      const next = receive()
      // A receive still pending when the consumer stops is abandoned; its rejection must not go unhandled.
      next.catch(() => undefined)
      let event: InputEvent | undefined
      try {
        event = await Promise.race([next, stoppedPromise])
      } catch (error) {
        this.finish(error)
        return
      }
      if (event === undefined) return
      await this.serial.run(() => this.dispatch(event))
    }
  }

  private async layerPump(layer: ChannelLayer, channel: string): Promise<void> {
    const slots = new Semaphore(this.concurrency)
    const signal = this.stopped.signal
    while (!signal.aborted) {
      await slots.acquire()
      let message: Message
      try {
        message = await layer.receive(channel, { signal })
      } catch (error) {
        slots.release()
        // finish() ignores a second call, so an abort-caused rejection after a stop is harmless.
        this.finish(error)
        return
      }
      const skipped = (): void => {
        this.dropped(message)
      }
      const task = (
        this.concurrency === 1
          ? this.serial.run(() => this.dispatch(message, skipped))
          : this.dispatch(message, skipped)
      ).finally(() => {
        slots.release()
        this.inflight.delete(task)
      })
      this.inflight.add(task)
    }
  }
}

function applyInit(consumer: AsyncConsumer, init: object): void {
  for (const [key, value] of Object.entries(init)) {
    if (!(key in consumer)) {
      throw new InvalidOptionError(`asApp({ ${key} })`, `a field declared on ${consumerName(consumer)}`, value)
    }
    Object.defineProperty(consumer, key, { value, writable: true, enumerable: true, configurable: true })
  }
}

function noLayer(consumer: object, what: string): NoChannelLayerError {
  return new NoChannelLayerError(
    `${consumerName(consumer)} used \`${what}\` but no channel layer is configured: pass \`layer\` to serve(), ` +
      'the fastify plugin, the worker or the communicator',
  )
}
