import type { Headers } from '../application.js'
import { ApplicationCancelledError, RouteNotFoundError } from '../errors.js'
import { isCodedError, type ApplicationOutcome } from './application-instance.js'

/** What the handshake turned into; the plugin completes the upgrade or writes the HTTP status. */
export type HandshakeDecision =
  | { readonly kind: 'accept'; readonly subprotocol: string | undefined; readonly headers: Headers }
  | { readonly kind: 'reject'; readonly status: 403 | 404 | 500 | 503; readonly body: string }
  /** The client went away before the application decided. */
  | { readonly kind: 'gone' }

/** The short text bodies of refused handshakes (Daphne's for 403). */
export const REJECTION_BODIES = {
  403: 'Access denied',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
} as const

/**
 * How a handshake is refused when the application ended before answering: a router's `RouteNotFoundError` -> 404, a
 * crash -> 500, returning (or being cancelled) without an answer -> 403.
 *
 * @example
 * ```ts
 * rejectionFor({ kind: 'threw', error: new RouteNotFoundError('no route') }) // { kind: 'reject', status: 404, ... }
 * ```
 */
export function rejectionFor(outcome: ApplicationOutcome): HandshakeDecision {
  const status =
    outcome.kind !== 'threw' || isCodedError(outcome.error, ApplicationCancelledError)
      ? 403
      : isCodedError(outcome.error, RouteNotFoundError)
        ? 404
        : 500
  return { kind: 'reject', status, body: REJECTION_BODIES[status] }
}
