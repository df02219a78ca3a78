import type { Application, InputEvent, OutputEvent, Scope } from '../application.js'
import { feedingReceive } from '../consumer-runtime/client-feed.js'
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

/** What an application call reports to the connection or exchange it serves (one object, no callbacks each). */
export interface ApplicationHost {
  /** The application's `send`. */
  send(event: OutputEvent): Promise<void>
  /** Called once, when the application is cancelled (for counting). */
  applicationCancelled(): void
  /** Called once, when the application's promise settles; must not throw. */
  applicationDone(outcome: ApplicationOutcome): void
}

/**
 * One call of the application for one connection: starts it with the connection's scope, its inbox as `receive` and
 * the host's `send`, and records how it ends. `cancel()` makes the pending and every later `receive` reject
 * with `ApplicationCancelledError`, which is how Switchyard stops an application that outstays its welcome (it cannot
 * be killed; one that ignores the rejection is abandoned and no longer tracked).
 *
 * @example
 * ```ts
 * const instance = new ApplicationInstance(inbox, host)
 * instance.start(application, scope)
 * inbox.pushAlways({ type: 'websocket.disconnect', code: 1000 })
 * const outcome = await instance.finishWithin(10_000) // cancels it if it takes longer
 * ```
 */
export class ApplicationInstance {
  private outcome: ApplicationOutcome | undefined
  /** Settles (never rejects) when the application's promise does, once the host has been told. */
  private finished: Promise<ApplicationOutcome> = NOT_STARTED
  private cancelledFlag = false

  constructor(
    private readonly inbox: Inbox<InputEvent>,
    private readonly host: ApplicationHost,
  ) {}

  /**
   * Calls `application` with `scope`, the inbox's `receive` and the host's `send`, at once: its first `send` may
   * come before this returns (apart from the constructor, so that the host holds the instance by then).
   */
  start(application: Application, scope: Scope): void {
    let called: Promise<void>
    try {
      // A receive the run loop of a consumer can listen through (the inbox is its feed), not await while idle.
      const receive = feedingReceive(this.inbox.receive.bind(this.inbox), this.inbox)
      const host = this.host
      // A closure, not `bind`: every frame a consumer sends calls it, and calls through one closure site of many
      // connections are inlined where a bound function per connection goes through the generic call path.
      called = Promise.resolve(application(scope, receive, (event) => host.send(event)))
    } catch (error) {
      // A synchronous throw from a non-async application becomes a rejection like any other.
      called = Promise.reject(error)
    }
    this.finished = called.then(
      () => this.settle(RESOLVED),
      (error: unknown) => this.settle({ kind: 'threw', error }),
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
    this.host.applicationCancelled()
    this.inbox.cancel(new ApplicationCancelledError(`The application was cancelled: ${why}`))
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

  private settle(outcome: ApplicationOutcome): ApplicationOutcome {
    this.outcome = outcome
    this.host.applicationDone(outcome)
    return outcome
  }
}

const RESOLVED: ApplicationOutcome = Object.freeze({ kind: 'resolved' })
const NOT_STARTED: Promise<ApplicationOutcome> = Promise.resolve(RESOLVED)
