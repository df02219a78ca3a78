import type { Application, InputEvent, OutputEvent, Receive, Scope, Send } from '../application.js'
import { ApplicationCancelledError, InvalidOptionError } from '../errors.js'
import { Fifo } from '../layers/fifo.js'
import { HttpProtocolState } from '../protocol/http-state.js'
import type { ProtocolState } from '../protocol/protocol-state.js'
import { WebsocketProtocolState } from '../protocol/websocket-state.js'
import { CommunicatorTimeoutError } from './communicator-timeout-error.js'
import type { TimeoutOptions } from './layer-receive.js'

/**
 * How long a cancelled application gets to settle before the communicator reports the timeout anyway. Cancellation
 * is cooperative: an application blocked on something other than `receive()` only notices it later, or never.
 */
export const CANCEL_GRACE_MS = 100

export interface StopOptions {
  /** Re-throw the error the application already failed with. @defaultValue `true` */
  readonly exceptions?: boolean
}

type Outcome =
  | { readonly kind: 'running' }
  | { readonly kind: 'returned' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'cancelled' }

interface PendingReceive {
  resolve(event: InputEvent): void
  reject(error: unknown): void
}

/**
 * Runs one application call, `app(scope, receive, send)`, in memory: no sockets, no server. The application starts
 * on first use. Input and output queues are unbounded (a test controls both ends). The `send` it is given checks
 * every event with the same protocol state the server uses, so breaking the protocol (a send before accept, a
 * second `http.response.start`...) rejects inside the application with the same coded error as in production, and
 * the communicator then re-throws it to the test.
 *
 * An application that crashed surfaces its own error from the next call, at once, rather than a timeout. Outputs it
 * sent before crashing are still returned first, as a client would have seen them.
 *
 * @example
 * ```ts
 * const communicator = new ApplicationCommunicator(app, httpScope('GET', '/events/'))
 * await communicator.sendInput({ type: 'http.request', body: new Uint8Array() })
 * expect(await communicator.receiveOutput()).toMatchObject({ type: 'http.response.start', status: 200 })
 * expect(await communicator.receiveOutput()).toMatchObject({ type: 'http.response.body', moreBody: true })
 * await communicator.sendInput({ type: 'http.disconnect' })
 * await communicator.wait()
 * ```
 */
export class ApplicationCommunicator<S extends Scope = Scope> {
  readonly scope: S
  readonly #app: Application
  readonly #protocol: ProtocolState | undefined
  readonly #inputs = new Fifo<InputEvent>()
  readonly #receivers = new Fifo<PendingReceive>()
  readonly #outputs = new Fifo<OutputEvent>()
  readonly #listeners = new Set<() => void>()
  #started = false
  #outcome: Outcome = { kind: 'running' }
  /** Why the application was cancelled; set once, by a timeout or `stop()`. */
  #cancelReason: string | undefined

  constructor(app: Application, scope: S) {
    this.#app = app
    this.scope = scope
    this.#protocol = protocolStateFor(scope)
  }

  /**
   * Queues an event for the application's `receive()`. Throws first if the application already failed (its own
   * error) or was cancelled (`ApplicationCancelledError`).
   */
  async sendInput(event: InputEvent): Promise<void> {
    this.#start()
    this.#throwIfEnded()
    const receiver = this.#receivers.shift()
    if (receiver === undefined) {
      this.#inputs.push(event)
      return
    }
    this.#delivered(event)
    receiver.resolve(event)
  }

  /**
   * Resolves with the next event the application sent, waiting up to `timeoutMs` (default 1000). When the
   * application crashed, its error is thrown (at once, once earlier outputs are consumed). When nothing arrives in
   * time, a still-running application is cancelled and a `CommunicatorTimeoutError` is thrown.
   */
  receiveOutput({ timeoutMs = 1000 }: TimeoutOptions = {}): Promise<OutputEvent> {
    return this.receiveOutputExpecting('an output event', timeoutMs)
  }

  /**
   * Resolves true if the application sends nothing within `timeoutMs` (default 100), false as soon as an event is
   * queued; the event stays queued for `receiveOutput`. Never cancels the application, but throws its error if it
   * crashed, so a crash cannot pass for silence.
   */
  async receiveNothing({ timeoutMs = 100 }: TimeoutOptions = {}): Promise<boolean> {
    checkTimeout(timeoutMs)
    this.#start()
    await this.#waitUntil(() => this.#outputs.length > 0 || this.#outcome.kind === 'failed', timeoutMs)
    if (this.#outputs.length > 0) return false
    if (this.#outcome.kind === 'failed') throw this.#outcome.error
    return true
  }

  /**
   * Waits up to `timeoutMs` (default 1000) for the application to finish, re-throwing its error. An application
   * that was cancelled counts as finished. On timeout the application is cancelled and `CommunicatorTimeoutError`
   * is thrown.
   */
  async wait({ timeoutMs = 1000 }: TimeoutOptions = {}): Promise<void> {
    checkTimeout(timeoutMs)
    this.#start()
    if (!(await this.#waitUntil(() => this.#settled, timeoutMs))) {
      await this.#timedOut('the application to finish', timeoutMs)
    }
    if (this.#outcome.kind === 'failed') throw this.#outcome.error
  }

  /**
   * Cancels the application if it is running (waiting up to `CANCEL_GRACE_MS` for it to settle); otherwise
   * re-throws the error it failed with, unless `exceptions` is false. Idempotent; call it in `afterEach`.
   */
  async stop({ exceptions = true }: StopOptions = {}): Promise<void> {
    if (!this.#started) {
      this.#started = true
      this.#cancelReason = 'the communicator was stopped before the application started'
      this.#outcome = { kind: 'cancelled' }
      return
    }
    if (!this.#settled) await this.#cancel('the communicator was stopped')
    if (exceptions && this.#outcome.kind === 'failed') throw this.#outcome.error
  }

  /**
   * `receiveOutput` for subclasses, naming what is awaited (`websocket.send`) in the timeout message.
   */
  protected async receiveOutputExpecting(awaited: string, timeoutMs: number): Promise<OutputEvent> {
    checkTimeout(timeoutMs)
    this.#start()
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const event = this.#outputs.shift()
      if (event !== undefined) return event
      this.#throwIfEnded()
      const remaining = deadline - performance.now()
      if (remaining <= 0) break
      const ready = () =>
        this.#outputs.length > 0 || this.#outcome.kind === 'failed' || this.#cancelReason !== undefined
      if (!(await this.#waitUntil(ready, remaining))) break
    }
    return this.#timedOut(awaited, timeoutMs)
  }

  get #settled(): boolean {
    return this.#outcome.kind !== 'running'
  }

  #start(): void {
    if (this.#started) return
    this.#started = true
    const receive: Receive = () => this.#receive()
    const send: Send = (event) => this.#send(event)
    // An `async` wrapper turns a synchronous throw from a non-async application into a rejection too.
    const run = async () => this.#app(this.scope, receive, send)
    void run().then(
      () => {
        this.#settle({ kind: 'returned' })
      },
      (error: unknown) => {
        const cancelled = this.#cancelReason !== undefined && error instanceof ApplicationCancelledError
        this.#settle(cancelled ? { kind: 'cancelled' } : { kind: 'failed', error })
      },
    )
  }

  #settle(outcome: Outcome): void {
    this.#outcome = outcome
    this.#notify()
  }

  #receive(): Promise<InputEvent> {
    if (this.#cancelReason !== undefined) return Promise.reject(this.#cancelledError())
    const event = this.#inputs.shift()
    if (event !== undefined) {
      this.#delivered(event)
      return Promise.resolve(event)
    }
    return new Promise((resolve, reject) => {
      this.#receivers.push({ resolve, reject })
    })
  }

  async #send(event: OutputEvent): Promise<void> {
    this.#protocol?.check(event)
    this.#outputs.push(event)
    this.#notify()
  }

  /** The server marks a connection closed when the application is handed the client's disconnect. */
  #delivered(event: InputEvent): void {
    if (event.type === 'websocket.disconnect' || event.type === 'http.disconnect') this.#protocol?.markDisconnected()
  }

  #throwIfEnded(): void {
    if (this.#outcome.kind === 'failed') throw this.#outcome.error
    if (this.#cancelReason !== undefined) throw this.#cancelledError()
  }

  async #timedOut(awaited: string, timeoutMs: number): Promise<never> {
    const wasRunning = !this.#settled
    if (wasRunning) await this.#cancel(`no ${awaited} arrived within ${timeoutMs} ms`)
    // asgiref: an error raised while the application was being cancelled wins over the timeout.
    if (this.#outcome.kind === 'failed') throw this.#outcome.error
    const outcome = wasRunning ? 'the application was cancelled' : 'the application had already returned'
    throw new CommunicatorTimeoutError(awaited, timeoutMs, outcome)
  }

  /** Rejects the application's pending and later `receive()` calls, then gives it a moment to settle. */
  async #cancel(reason: string): Promise<void> {
    this.#cancelReason ??= reason
    for (let pending = this.#receivers.shift(); pending !== undefined; pending = this.#receivers.shift()) {
      pending.reject(this.#cancelledError())
    }
    this.#notify()
    await this.#waitUntil(() => this.#settled, CANCEL_GRACE_MS)
  }

  #cancelledError(): ApplicationCancelledError {
    return new ApplicationCancelledError(
      `The application was cancelled by the test communicator: ${this.#cancelReason ?? ''}`,
    )
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener()
  }

  /** Resolves true once `ready()` holds (checked on every queue or outcome change), false after `timeoutMs`. */
  #waitUntil(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        clearTimeout(timer)
        this.#listeners.delete(listener)
        resolve(result)
      }
      const listener = () => {
        if (ready()) finish(true)
      }
      const timer = setTimeout(() => {
        finish(ready())
      }, timeoutMs)
      this.#listeners.add(listener)
    })
  }
}

function protocolStateFor(scope: Scope): ProtocolState | undefined {
  switch (scope.type) {
    case 'websocket':
      return new WebsocketProtocolState({ subprotocols: scope.subprotocols })
    case 'http':
      return new HttpProtocolState()
    case 'channel':
      // A background channel has no client; a worker has nothing to check its events against.
      return undefined
  }
}

function checkTimeout(timeoutMs: number): void {
  const raw: unknown = timeoutMs
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
    throw new InvalidOptionError('timeoutMs', 'a non-negative number of milliseconds', raw)
  }
}
