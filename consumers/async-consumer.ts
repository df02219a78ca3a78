import type { Application, OutputEvent, Receive, Scope, Send } from '../src/application.js'
import { InvalidOptionError, NoChannelLayerError } from '../src/errors.js'
import type { ChannelLayer, Message } from '../src/layers/channel-layer.js'
import { bufferedReceiverOf } from '../src/layers/buffered-receiver.js'
import { defaultLogger, markLogged, type Logger } from '../src/logger.js'
import {
  consumerMessagesObserved,
  reportConsumerMessageIn,
  reportConsumerMessageOut,
  reportLayerMessageRefused,
} from '../src/diagnostics.js'
import { ConsumerLayer } from '../src/consumer-runtime/consumer-layer.js'
import { consumerName, findHandler } from '../src/consumer-runtime/dispatch.js'
import { RunLoop } from '../src/consumer-runtime/run-loop.js'
import type { ConsumerMessage, LayerRefusal, LoopStart, RunLoopHooks } from '../src/consumer-runtime/run-loop-hooks.js'

export type { ConsumerMessage, LayerRefusal } from '../src/consumer-runtime/run-loop-hooks.js'

/** Refused layer messages are logged at most this often per consumer, with the count since the last line. */
const REFUSAL_LOG_INTERVAL_MS = 10_000

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
  /** The layer as this consumer sees it; it also holds this consumer's own channel (`channelName`). */
  private layer: ConsumerLayer | undefined
  private sendToClient: Send | undefined
  private stopRequested = false
  /** Refused layer messages since the last log line, and when that was: made on the first refusal. */
  private refusals: { since: number; loggedAt: number } | undefined
  /** `log`, once made or set. */
  private logger: Logger | undefined

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

  /**
   * A logger bound to `{ connId, consumer }`: a child of `scope.logger` (or of Switchyard's default logger), made the
   * first time it is used, so a connection that never logs never makes one. Never log payloads through it.
   */
  get log(): Logger {
    return (this.logger ??= consumerLogger(this, this.scope))
  }

  set log(logger: Logger) {
    this.logger = logger
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
    if (this.layer === undefined) throw noLayer(this, 'channelName')
    return this.layer.ownChannel
  }

  /** Sends a raw protocol event to the client (Channels' `base_send`). */
  baseSend(event: OutputEvent): Promise<void> {
    // Not `async`: the server's own promise is returned as it is (once per frame). Counted once handed over.
    const send = this.sendToClient
    if (send === undefined) return Promise.reject(new Error('baseSend() called before the consumer started'))
    let sent: Promise<void>
    try {
      sent = send(event)
    } catch (error) {
      return Promise.reject(error)
    }
    if (consumerMessagesObserved()) reportConsumerMessageOut(this.label)
    return sent
  }

  /**
   * Sends a layer message to the client as it is, without a handler, if this consumer forwards its type
   * (`JsonWebsocketConsumer.forward`); undefined otherwise, and the message goes to its handler.
   */
  protected forwardLayerMessage(_message: Message): Promise<void> | undefined {
    return undefined
  }

  /** Runs the handler for `message.type`. */
  dispatch(message: ConsumerMessage): Promise<void> {
    // Not `async`: the handler's own promise is returned as it is, not wrapped in one more per message.
    try {
      const handler = findHandler(this, message.type)
      if (consumerMessagesObserved()) reportConsumerMessageIn(this.label)
      // A native promise comes back as it is; a thenable is adopted; a plain value resolves.
      return Promise.resolve(handler.call(this, message as never)) as Promise<void>
    } catch (error) {
      return Promise.reject(error)
    }
  }

  protected get label(): string {
    // Not cached on the instance: reading the class's name is cheap, and a field is 8 bytes on every connection.
    return consumerName(this)
  }

  /** Leaves every group this consumer's channel joined (it also happens automatically when the consumer ends). */
  protected async leaveGroups(): Promise<void> {
    await this.layer?.leaveAll(this)
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
    return this.layer?.ownChannel
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
   * Called for a layer message that is not handled, and the consumer goes on: one with a client event type
   * (`websocket.*`, `http.*`; client events come only from the socket, so nobody who can send to the layer can
   * forge them), or one no handler takes (a typo in a type must not let a layer sender close every connection).
   * The default counts it (the `layer_messages_refused_total` metric) and logs a warning at most every 10 s.
   */
  protected layerMessageRefused(message: Message, reason: LayerRefusal, cause?: unknown): void {
    reportLayerMessageRefused(this.label, reason)
    const refusals = (this.refusals ??= { since: 0, loggedAt: Number.NEGATIVE_INFINITY })
    refusals.since++
    const now = Date.now()
    if (now - refusals.loggedAt < REFUSAL_LOG_INTERVAL_MS) return
    const type = typeof message.type === 'string' ? message.type.slice(0, 100) : typeof message.type
    const code = cause instanceof Error ? (cause as { code?: unknown }).code : undefined
    const fields = { type, reason, refused: refusals.since, ...(typeof code === 'string' ? { code } : {}) }
    this.log.warn(fields, 'layer message refused')
    refusals.since = 0
    refusals.loggedAt = now
  }

  /**
   * Called for a layer message that was taken off the channel just as the consumer stopped, so its handler never
   * ran (the layer delivers at most once: it is gone). The default ignores it.
   */
  protected layerMessageDropped(_message: Message): void {
    // Nothing to do for a connection that has ended; BackgroundConsumer counts and logs these.
  }

  /** The run loop: the application body for one connection. Resolves when the consumer stops. */
  run(scope: Scope, receive: Receive, send: Send): Promise<void> {
    // Promise callbacks, not an async function awaiting the loop: an idle connection holds no suspended generator,
    // and the loop's promise is its only one.
    const starting = this.attach(scope, send).then(() => this.loopStart())
    return new RunLoop<AsyncConsumer>(this, AsyncConsumer.#runLoopHooks).run(receive, starting)
  }

  private loopStart(): LoopStart {
    const channel = this.layerChannel()
    const layer = this.layer
    // The shared layer's own buffer, not this wrapper's: taking from it is what the wrapper's receive does.
    const source =
      layer === undefined || channel === undefined
        ? undefined
        : { layer, channel, buffered: bufferedReceiverOf(layer.inner) }
    return { source, concurrency: this.layerConcurrency() }
  }

  /** What every consumer's run loop calls: one object for all of them, the consumer passed in. */
  static readonly #runLoopHooks: RunLoopHooks<AsyncConsumer> = {
    dispatch(consumer, message) {
      return consumer.dispatch(message)
    },
    forward(consumer, message) {
      return consumer.forwardLayerMessage(message)
    },
    failed(consumer, error, message, fromLayer) {
      if (fromLayer && isUnhandledType(error)) {
        consumer.layerMessageRefused(message as Message, 'no handler', error)
        return Promise.resolve()
      }
      return consumer.dispatchFailed(error, message)
    },
    refused(consumer, message, reason) {
      consumer.layerMessageRefused(message, reason)
    },
    stopRequested(consumer) {
      return consumer.stopRequested
    },
    dropped(consumer, message) {
      consumer.layerMessageDropped(message)
    },
    /** The loop has ended: leave every group, then end as the loop did. */
    async ended(consumer, error) {
      await consumer.layer?.leaveAll(consumer)
      if (error !== undefined) {
        consumer.log.error({ err: error }, 'consumer failed')
        markLogged(error)
        throw error
      }
    },
  }

  /**
   * Binds the consumer to its connection: scope, logger, and (when a layer is configured) its own channel and the
   * group-tracking layer. Subclasses with their own run loop call it first.
   */
  protected async attach(scope: Scope, send: Send): Promise<void> {
    this.scope = scope
    this.sendToClient = send
    this.logger = undefined // made from this scope when first used
    const layer = scope.channelLayer
    if (layer !== undefined) {
      this.layer = new ConsumerLayer(layer, await layer.newChannel())
    }
  }
}

/** The consumer's `log`: a child of its scope's logger carrying the connection id and the consumer's name. */
function consumerLogger(consumer: AsyncConsumer, scope: Scope | undefined): Logger {
  const parent = scope?.logger ?? defaultLogger()
  const connId = scope !== undefined && 'connectionId' in scope ? scope.connectionId : undefined
  const name = consumerName(consumer)
  return parent.child(connId === undefined ? { consumer: name } : { connId, consumer: name })
}

function applyInit(consumer: AsyncConsumer, init: object): void {
  for (const [key, value] of Object.entries(init)) {
    if (!(key in consumer)) {
      throw new InvalidOptionError(`asApp({ ${key} })`, `a field declared on ${consumerName(consumer)}`, value)
    }
    Object.defineProperty(consumer, key, { value, writable: true, enumerable: true, configurable: true })
  }
}

/** A type no handler takes, or no handler could ever take (`findHandler`'s coded errors). */
function isUnhandledType(error: unknown): boolean {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined
  return code === 'SWY_UNKNOWN_MESSAGE_TYPE' || code === 'SWY_INVALID_MESSAGE_TYPE'
}

function noLayer(consumer: object, what: string): NoChannelLayerError {
  return new NoChannelLayerError(
    `${consumerName(consumer)} used \`${what}\` but no channel layer is configured: pass \`layer\` to serve(), ` +
      'the fastify plugin, the worker or the communicator',
  )
}
