import type { Receive, Scope, Send, ShutdownEvent } from '../src/application.js'
import {
  InvalidOptionError,
  NoChannelLayerError,
  UnknownMessageTypeError,
  UnknownProtocolError,
} from '../src/errors.js'
import type { Message } from '../src/layers/channel-layer.js'
import { defaultLogger, markLogged } from '../src/logger.js'
import { AsyncConsumer, type ConsumerMessage, type LayerRefusal } from './async-consumer.js'
import { consumerName } from '../src/consumer-runtime/dispatch.js'

/** What a BackgroundConsumer did with the messages it took off its channel. */
export interface BackgroundConsumerStats {
  /** Handlers that returned normally. */
  readonly handled: number
  /** Handlers that threw (logged with the error; the message is not retried). */
  readonly failed: number
  /** Messages whose type names no handler, or cannot name one (logged with the error code). */
  readonly unhandled: number
  /** Messages taken off the channel at the moment the consumer stopped, whose handler never ran. */
  readonly dropped: number
}

/** Unknown types are logged at most this often, with the count since the last line, so a flood cannot flood logs. */
const UNHANDLED_LOG_INTERVAL_MS = 10_000

const SHUTDOWN: ShutdownEvent['type'] = 'switchyard.shutdown'

/**
 * A consumer for a named background channel, served by a worker (`switchyard worker`, Channels' `runworker`): it
 * takes messages off `scope.channel` and runs the handler each message's `type` names, `email.send` running
 * `email_send(message)`. Delivery is at most once, as in Channels: a message is gone from the channel once taken,
 * whatever its handler does (use RetryingConsumer for retries and dead letters).
 *
 * Up to `static concurrency` handlers run at once (default 1; the worker's `concurrency` option overrides it). A worker must not die on one bad message, so unlike a
 * WebSocket consumer a handler that throws, or a message with no handler, is logged and counted (`stats()`) and the
 * consumer keeps going; override `dispatchFailed` and re-throw to change that. The consumer ends on the worker's
 * `switchyard.shutdown` event, after the handlers in progress finish, or when a handler throws `StopConsumer`.
 *
 * @example
 * ```ts
 * class EmailConsumer extends BackgroundConsumer {
 *   static override concurrency = 4
 *   async email_send(message: { type: 'email.send'; to: string; subject: string }) {
 *     await mailer.send(message.to, message.subject)
 *   }
 * }
 * export const application = ProtocolTypeRouter({ channel: ChannelNameRouter({ 'email.send': EmailConsumer.asApp() }) })
 * // switchyard worker --app app.ts email.send
 * // elsewhere: await layer.send('email.send', { type: 'email.send', to: 'a@example.com', subject: 'Hi' })
 * ```
 */
export class BackgroundConsumer extends AsyncConsumer {
  private counters = { handled: 0, failed: 0, unhandled: 0, dropped: 0 }
  private shutdownReceived = false
  private unhandledSinceLog = 0
  private unhandledLoggedAt = Number.NEGATIVE_INFINITY

  /** Counters for this consumer instance (one per channel a worker serves). */
  stats(): BackgroundConsumerStats {
    return { ...this.counters }
  }

  /** Serves `scope.channel` until shutdown. Rejects at once for a scope that is not a worker channel, or no layer. */
  override async run(scope: Scope, receive: Receive, send: Send): Promise<void> {
    const name = consumerName(this)
    if (scope.type !== 'channel') {
      throw new UnknownProtocolError(
        `${name} serves worker channels ("channel" scopes), got a "${scope.type}" scope; route it with ` +
          'ProtocolTypeRouter({ channel: ChannelNameRouter({ ... }) }) and run it with `switchyard worker`',
      )
    }
    if (scope.channelLayer === undefined) {
      throw new NoChannelLayerError(
        `${name} reads channel "${scope.channel}" from the channel layer, but none is configured: pass \`layer\` to ` +
          'the worker or the communicator',
      )
    }
    const logger = (scope.logger ?? defaultLogger()).child({ channel: scope.channel })
    // The shutdown flag is set as the event is received, before it reaches the handler: only the runtime, never
    // a layer message of the same type, can stop the consumer.
    const watchedReceive: Receive = async () => {
      const event = await receive()
      if (event.type === SHUTDOWN) this.shutdownReceived = true
      return event
    }
    try {
      await super.run({ ...scope, logger }, watchedReceive, send)
    } finally {
      this.log.info({ ...this.counters }, 'background consumer stopped')
    }
  }

  /** The worker's shutdown: stop taking messages; the run loop waits for the handlers in progress. */
  async switchyard_shutdown(_event: ShutdownEvent): Promise<void> {
    if (!this.shutdownReceived) {
      throw new UnknownMessageTypeError(
        '`switchyard.shutdown` came as a layer message; only the worker may stop a BackgroundConsumer ' +
          '(`switchyard.*` types are reserved for the runtime)',
      )
    }
    this.stop()
  }

  override async dispatch(message: ConsumerMessage): Promise<void> {
    await super.dispatch(message)
    if (message.type !== SHUTDOWN) this.counters.handled++
  }

  /** The worker's `concurrency` option (`switchyard worker --concurrency N`) wins over `static concurrency`. */
  protected override layerConcurrency(): number {
    const override = this.scope.concurrency
    if (override === undefined) return super.layerConcurrency()
    if (typeof override !== 'number' || !Number.isSafeInteger(override) || override < 1) {
      throw new InvalidOptionError('concurrency', 'a positive integer', override)
    }
    return override
  }

  protected override layerChannel(): string | undefined {
    return this.scope.type === 'channel' ? this.scope.channel : undefined
  }

  /** Logs and counts a failed message and keeps the consumer running. Payloads are never logged. */
  protected override async dispatchFailed(error: unknown, message: ConsumerMessage): Promise<void> {
    const code = codeOf(error)
    if (code === 'SWY_UNKNOWN_MESSAGE_TYPE' || code === 'SWY_INVALID_MESSAGE_TYPE') {
      this.counters.unhandled++
      this.logUnhandled(code, message.type)
      return
    }
    this.counters.failed++
    this.log.error({ err: error, type: message.type }, 'background handler failed; message not retried')
    markLogged(error)
  }

  /** A type with no handler keeps this consumer's own counter and log line; anything else as for every consumer. */
  protected override layerMessageRefused(message: Message, reason: LayerRefusal, cause?: unknown): void {
    if (reason !== 'no handler') {
      super.layerMessageRefused(message, reason, cause)
      return
    }
    this.counters.unhandled++
    this.logUnhandled(String(codeOf(cause)), typeof message.type === 'string' ? message.type : typeof message.type)
  }

  protected override layerMessageDropped(message: Message): void {
    this.counters.dropped++
    this.log.warn({ type: message.type }, 'message taken off the channel during shutdown was not handled')
  }

  private logUnhandled(code: string, type: string): void {
    this.unhandledSinceLog++
    const now = Date.now()
    if (now - this.unhandledLoggedAt < UNHANDLED_LOG_INTERVAL_MS) return
    this.log.warn({ code, type, unhandled: this.unhandledSinceLog }, 'message with no handler dropped')
    this.unhandledSinceLog = 0
    this.unhandledLoggedAt = now
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
}
