/**
 * The building blocks of middleware: an application that wraps another, may add to the scope and may decide not to
 * call it at all. As in Channels, middleware is stateless (one instance serves every connection) and never changes
 * the scope it was given; the inner application gets a new one.
 */
import type { Application, Receive, Scope, Send } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import { isPathRouting, markPathRouting } from '../routing/path-routing.js'

/** Wraps an application in another. */
export type Middleware = (inner: Application) => Application

/**
 * The body of a middleware, called once per connection with a shallow copy of the connection's scope and the
 * inner application it wraps. Pass `withScope(scope, additions)` to `inner` to add to the scope.
 */
export type MiddlewareHandler = (scope: Scope, receive: Receive, send: Send, inner: Application) => Promise<void>

/** Values to add to a scope; by convention camelCase keys (`user`, `cookies`, `tenant`). */
export type ScopeAdditions = Readonly<Record<string, unknown>>

/**
 * A shallow copy of `scope` with `additions` on top. The original is never modified, so an outer layer (or a
 * `URLRouter` about to try its next route) sees the scope it had.
 *
 * @example
 * ```ts
 * await inner(withScope(scope, { tenant: 'acme' }), receive, send)
 * ```
 */
export function withScope<S extends Scope>(scope: S, additions: ScopeAdditions): S {
  return { ...scope, ...additions }
}

/**
 * Builds a middleware from a handler. The handler receives a shallow copy of the scope (so even a careless
 * assignment never reaches the outer layer) and the inner application. The result carries the inner
 * application's path-routing marker, so `URLRouter` still treats `route('api/', Middleware(URLRouter([...])))` as
 * a nested router.
 *
 * @example
 * ```ts
 * const TenantMiddleware = defineMiddleware(async (scope, receive, send, inner) => {
 *   const host = scope.type === 'channel' ? undefined : getHeader(scope, 'host')
 *   await inner(withScope(scope, { tenant: host?.split('.')[0] ?? null }), receive, send)
 * })
 * const app = TenantMiddleware(URLRouter([route('ws/chat/:room/', ChatConsumer.asApp())]))
 * ```
 */
export function defineMiddleware(handler: MiddlewareHandler): Middleware {
  return (inner) => {
    assertApplication(inner)
    const app: Application = (scope, receive, send) => handler({ ...scope }, receive, send, inner)
    return isPathRouting(inner) ? markPathRouting(app) : app
  }
}

/**
 * Builds the common kind of middleware, one that only adds to the scope: `extend` computes the additions (it may
 * be async) and the inner application runs with them.
 *
 * @example
 * ```ts
 * const RequestIdMiddleware = scopeMiddleware(() => ({ requestId: crypto.randomUUID() }))
 * ```
 */
export function scopeMiddleware(extend: (scope: Scope) => ScopeAdditions | Promise<ScopeAdditions>): Middleware {
  return defineMiddleware(async (scope, receive, send, inner) => {
    await inner(withScope(scope, await extend(scope)), receive, send)
  })
}

/** Throws `InvalidOptionError` unless `inner` is an application; middleware checks this when it is built. */
export function assertApplication(inner: unknown, option = 'inner'): asserts inner is Application {
  if (typeof inner !== 'function') throw new InvalidOptionError(option, 'an application function', inner)
}
