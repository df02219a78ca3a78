/**
 * The marker that tells a `URLRouter` "this application routes on the rest of the path itself". Channels calls it
 * `_path_routing`: a route whose application carries it matches as a prefix and hands the remainder on in
 * `scope.pathRemaining`; any other route must match the whole path.
 */
import type { Application } from '../application.js'

/**
 * Registered with `Symbol.for` so that two copies of Switchyard in one process (a dependency that bundles its own)
 * still recognise each other's routers.
 */
export const PATH_ROUTING: unique symbol = Symbol.for('switchyard.pathRouting')

/** An application that does its own path routing: a `URLRouter`, or middleware wrapped around one. */
export type PathRoutingApplication = Application & { readonly [PATH_ROUTING]: true }

/** True when `app` routes on `scope.pathRemaining` itself, so an outer `URLRouter` must match it as a prefix. */
export function isPathRouting(app: Application): app is PathRoutingApplication {
  return (app as Partial<PathRoutingApplication>)[PATH_ROUTING] === true
}

/**
 * Marks `app` as doing its own path routing and returns it. Middleware built with `defineMiddleware` copies the
 * marker from its inner application already; call this only for hand-written wrappers.
 *
 * @example
 * ```ts
 * const logged = markPathRouting(async (scope, receive, send) => {
 *   console.log('routing', scope.type)
 *   await inner(scope, receive, send)
 * })
 * URLRouter([route('api/', logged)]) // matches `api/` as a prefix, like a nested URLRouter
 * ```
 */
export function markPathRouting<A extends Application>(app: A): A & PathRoutingApplication {
  Object.defineProperty(app, PATH_ROUTING, { value: true, enumerable: false })
  return app as A & PathRoutingApplication
}
