import type { Application, InputEvent, Receive, Scope, Send } from '../application.js'
import { ApplicationCancelledError } from '../errors.js'
import type { Inbox } from './inbox.js'

/**
 * True when `error` is an instance of the coded error class, or carries its `code`. The CLI loads applications
 * through tsx's `tsImport`, which gives the application its own copy of every module it imports (Switchyard
 * included), so `instanceof` alone would miss a `RouteNotFoundError` thrown by the application's copy.
 */
export function isCodedError(error: unknown, type: { readonly code: string; prototype: Error }): boolean {
  if (error instanceof (type as unknown as new () => Error)) return true
  return typeof error === 'object' && error !== null && (error as { readonly code?: unknown }).code === type.code
}

/** How an application call ended. */
export type ApplicationOutcome =
  | { readonly kind: 'resolved' }
  | { readonly kind: 'threw'; readonly error: unknown }
  /** Cancelled, and it did not settle by the time the server stopped waiting for it. */
  | { readonly kind: 'abandoned' }

/** What an application call runs with. */
export interface ApplicationInstanceInit {
  readonly application: Application
  readonly scope: Scope
  /** Its `receive` reads from here; `cancel()` cancels it. */
  readonly inbox: Inbox<InputEvent>
  readonly send: Send
  /**
   * Sees every lifecycle event (those queued with `inbox.pushAlways`: connect, disconnect, request) just before the
   * application receives it, e.g. to mark the protocol state disconnected. Client frames are not shown to it.
   */
  readonly onReceived?: (event: InputEvent) => void
  /** Called once, when the application is cancelled (for counting). */
  readonly onCancelled?: () => void
}

/**
 * One call of the application for one connection: starts it with the connection's scope, its inbox as `receive` and
 * the connection's `send`, and records how it ends. `cancel()` makes the pending and every later `receive` reject
 * with `ApplicationCancelledError`, which is how Switchyard stops an application that outstays its welcome (it cannot
 * be killed; one that ignores the rejection is abandoned and no longer tracked).
 *
 * @example
 * ```ts
 * const instance = new ApplicationInstance({ application, scope, inbox, send })
 * inbox.pushAlways({ type: 'websocket.disconnect', code: 1000 })
 * const outcome = await instance.finishWithin(10_000) // cancels it if it takes longer
 * ```
 */
export class ApplicationInstance {
  /** Settles (never rejects) when the application's promise does. */
  readonly finished: Promise<ApplicationOutcome>
  private outcome: ApplicationOutcome | undefined
  private cancelledFlag = false

  constructor(private readonly init: ApplicationInstanceInit) {
    const { application, scope, inbox, send, onReceived } = init
    const receive = receiverOf(inbox, onReceived)
    // A synchronous throw from a non-async application becomes a rejection like any other.
    this.finished = Promise.resolve()
      .then(() => application(scope, receive, send))
      .then(
        () => (this.outcome = RESOLVED),
        (error: unknown) => (this.outcome = { kind: 'threw', error }),
      )
  }

  /** Undefined while the application runs. */
  get result(): ApplicationOutcome | undefined {
    return this.outcome
  }

  get cancelled(): boolean {
    return this.cancelledFlag
  }

  /** Makes its receives reject with `ApplicationCancelledError`. Idempotent. */
  cancel(why: string): void {
    if (this.cancelledFlag) return
    this.cancelledFlag = true
    this.init.onCancelled?.()
    this.init.inbox.cancel(new ApplicationCancelledError(`The application was cancelled: ${why}`))
  }

  /**
   * Waits up to `timeoutMs` for the application to finish; then cancels it and gives it one more macrotask turn to
   * unwind. Resolves with its outcome, `abandoned` if it still has not settled.
   */
  async finishWithin(timeoutMs: number, why = `it did not finish within ${timeoutMs} ms`): Promise<ApplicationOutcome> {
    if (this.outcome !== undefined) return this.outcome
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        resolve(undefined)
      }, timeoutMs)
    })
    const first = await Promise.race([this.finished, timedOut])
    clearTimeout(timer)
    if (first !== undefined) return first
    this.cancel(why)
    const grace = new Promise<undefined>((resolve) => {
      setImmediate(() => {
        resolve(undefined)
      })
    })
    return (await Promise.race([this.finished, grace])) ?? { kind: 'abandoned' }
  }
}

const RESOLVED: ApplicationOutcome = Object.freeze({ kind: 'resolved' })

/**
 * The application's `receive`: the inbox's, with `onReceived` watching its lifecycle events. A function made by a
 * function rather than named by a `const`: under tsx, esbuild's keepNames gives a named function an own `name`
 * property, 256 bytes per connection.
 */
function receiverOf(inbox: Inbox<InputEvent>, onReceived: ((event: InputEvent) => void) | undefined): Receive {
  if (onReceived !== undefined) inbox.observeLifecycle(onReceived)
  return () => inbox.receive()
}
