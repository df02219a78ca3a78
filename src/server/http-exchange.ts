import type { IncomingMessage, ServerResponse } from 'node:http'

import type { HttpResponseBodyEvent, HttpResponseStartEvent, InputEvent, OutputEvent } from '../application.js'
import { InvalidEventError, RouteNotFoundError } from '../errors.js'
import type { Logger } from '../logger.js'
import { HttpProtocolState } from '../protocol/http-state.js'
import {
  ApplicationInstance,
  isCodedError,
  type ApplicationHost,
  type ApplicationOutcome,
} from './application-instance.js'
import { Inbox, type LifecycleObserver } from './inbox.js'
import { httpScope } from './scope-builder.js'
import type { ResolvedSwitchyardOptions } from './server-options.js'
import type { ServerCounters } from './server-stats.js'

/** The request and, at shutdown, the disconnect: nothing else ever waits in an HTTP inbox. */
const HTTP_INBOX_LIMITS = Object.freeze({ maxEvents: 2, maxBytes: Number.MAX_SAFE_INTEGER })

/** What an exchange needs from its server. */
export interface ExchangeContext {
  readonly options: ResolvedSwitchyardOptions
  readonly counters: ServerCounters
  readonly connectionId: string
  /** Called once the application has finished (or been abandoned) and the response is closed. */
  readonly onFinished: () => void
}

/**
 * One HTTP request handed to the application: the (already size-checked) body arrives as one
 * `http.request { body, moreBody: false }`, `http.response.start` writes the status and headers, and each
 * `http.response.body` is written as it comes, so `moreBody: true` streams (server-sent events, long-poll). The
 * client leaving, or the response completing, delivers `http.disconnect`; the application then has
 * `applicationCloseTimeoutMs` to finish. A crash before `http.response.start` answers 500 (`RouteNotFoundError`: 404);
 * after it the connection is cut, since the status is already on the wire.
 *
 * @example
 * ```ts
 * reply.hijack()
 * new HttpExchange(request.raw, reply.raw, body, context).start()
 * ```
 */
export class HttpExchange implements ApplicationHost, LifecycleObserver<InputEvent> {
  private readonly log: Logger
  private readonly inbox = new Inbox<InputEvent>(HTTP_INBOX_LIMITS)
  private readonly state = new HttpProtocolState()
  private instance: ApplicationInstance | undefined
  private responseClosed = false
  private appDone = false
  private finishing: Promise<void> | undefined
  private reported = false

  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly body: Uint8Array,
    private readonly context: ExchangeContext,
  ) {
    this.log = context.options.logger
  }

  /** Runs the application on the request. */
  start(): void {
    const connId = this.context.connectionId
    const scope = httpScope(this.request, {
      connectionId: connId,
      logger: this.log.child({ connId }),
      layer: this.context.options.layer,
    })
    this.response.once('close', () => {
      this.onResponseClosed()
    })
    this.inbox.pushAlways({ type: 'http.request', body: this.body, moreBody: false })
    this.inbox.observeLifecycle(this)
    this.instance = new ApplicationInstance(this.inbox, this)
    this.instance.start(this.context.options.application, scope)
  }

  /** The application is about to receive a lifecycle event (`LifecycleObserver`). */
  lifecycleReceived(event: InputEvent): void {
    if (event.type === 'http.disconnect') this.state.markDisconnected()
  }

  applicationCancelled(): void {
    this.context.counters.increment('applicationsCancelled')
  }

  /** Server shutdown: delivers `http.disconnect`, waits up to `applicationCloseTimeoutMs`, then cuts the response. */
  async shutdown(): Promise<void> {
    this.inbox.pushAlways({ type: 'http.disconnect' })
    await this.finish()
    if (this.responseClosed) return
    const closed = new Promise((resolve) => this.response.once('close', resolve))
    if (!this.response.writableEnded) this.response.destroy()
    await closed
  }

  /** The application's `send` (`ApplicationHost`). */
  async send(event: OutputEvent): Promise<void> {
    this.state.check(event)
    // The client left: what the application still sends goes nowhere until it has seen http.disconnect.
    if (this.responseClosed) return
    const checked = event as HttpResponseStartEvent | HttpResponseBodyEvent
    if (checked.type === 'http.response.start') {
      try {
        this.response.writeHead(checked.status, (checked.headers ?? []).flat())
      } catch (error) {
        throw new InvalidEventError(`http.response.start could not be written: ${String(error)}`, { cause: error })
      }
      return
    }
    const chunk = checked.body ?? new Uint8Array(0)
    if (checked.moreBody === true) {
      if (!this.response.write(chunk)) await this.drained()
      return
    }
    this.response.end(chunk)
  }

  /** Backpressure for streaming bodies: resolves when the client has taken the buffered chunks, or left. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.response.off('drain', done)
        this.response.off('close', done)
        resolve()
      }
      this.response.once('drain', done)
      this.response.once('close', done)
    })
  }

  private onResponseClosed(): void {
    this.responseClosed = true
    this.inbox.pushAlways({ type: 'http.disconnect' })
    void this.finish()
    this.maybeFinished()
  }

  applicationDone(outcome: ApplicationOutcome): void {
    this.appDone = true
    const error = outcome.kind === 'threw' ? outcome.error : undefined
    const response = this.response
    if (outcome.kind === 'threw' && !isCodedError(error, RouteNotFoundError) && this.instance?.cancelled !== true) {
      this.context.counters.increment('applicationErrors')
      this.log.error({ connId: this.context.connectionId, err: error }, 'application error')
    }
    if (!response.writableEnded && !this.responseClosed) {
      if (response.headersSent || this.state.started) {
        // The status is on the wire: cutting the connection is the only honest way to say the body is incomplete.
        // After http.disconnect (a shutdown) stopping mid-stream is what the application was asked to do.
        if (outcome.kind !== 'threw' && !this.state.closed) {
          this.log.error({ connId: this.context.connectionId }, 'application returned before ending its response')
        }
        response.destroy()
      } else if (isCodedError(error, RouteNotFoundError)) {
        respondText(response, 404, 'Not Found')
      } else {
        if (outcome.kind !== 'threw') {
          this.context.counters.increment('applicationErrors')
          this.log.error({ connId: this.context.connectionId }, 'application returned without a response')
        }
        respondText(response, 500, 'Internal Server Error')
      }
    }
    this.maybeFinished()
  }

  private finish(): Promise<void> {
    const instance = this.instance
    if (instance === undefined) return Promise.resolve()
    this.finishing ??= instance
      .finishWithin(
        this.context.options.applicationCloseTimeoutMs,
        `it did not finish within applicationCloseTimeoutMs (${this.context.options.applicationCloseTimeoutMs} ms) ` +
          'after the client disconnected',
      )
      .then((outcome) => {
        if (instance.cancelled) {
          this.log.warn(
            { connId: this.context.connectionId, outcome: outcome.kind },
            'application cancelled after disconnect',
          )
        }
        this.appDone = true
        this.maybeFinished()
      })
    return this.finishing
  }

  private maybeFinished(): void {
    if (!this.appDone || !this.responseClosed || this.reported) return
    this.reported = true
    this.context.onFinished()
  }
}

function respondText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  response.end(text)
}
