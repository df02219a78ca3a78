/**
 * `URLRouter`: Channels' path router. Routes are tried in order and the first match wins; the matched application
 * gets a new scope with `urlRoute` (captured values, outermost router first) and `pathRemaining`.
 */
import type { HttpScope, Receive, Scope, Send, UrlRoute, WebsocketScope } from '../application.js'
import { RouteNotFoundError, UnknownProtocolError } from '../errors.js'
import { describeKey } from './describe-key.js'
import { stripLeadingSlashes, type PatternMatch } from './path-pattern.js'
import { markPathRouting, type PathRoutingApplication } from './path-routing.js'
import { compileRoutes, type CompiledRoute, type RouteEntry, type RouteKwargs } from './route-table.js'

export { route, type Route, type RouteEntry, type RouteKwargs, type RouteOptions } from './route-table.js'

/** One call of a router: what it was given and the path left to match (undefined: outside `rootPath`). */
interface RouteCall {
  readonly routes: readonly CompiledRoute[]
  readonly scope: WebsocketScope | HttpScope
  readonly receive: Receive
  readonly send: Send
  readonly rest: string | undefined
  readonly outermost: boolean
}

// A nested router that finds nothing throws a RouteNotFoundError tagged with the token its parent put in its scope;
// the parent catches only that error, so a RouteNotFoundError from deeper inside an application that already ran
// is never mistaken for "no route here, try the next one" (which would run a second application on one socket).
const ROUTE_ATTEMPT = Symbol('switchyard.routeAttempt')
const nestedMisses = new WeakMap<RouteNotFoundError, object>()

/**
 * Routes `websocket` and `http` scopes by path. Only the outermost router (the one whose scope has no
 * `pathRemaining`) applies `scope.rootPath` and, when nothing matches, logs `no route for path` at info level and
 * rejects with `RouteNotFoundError` (the server answers 404 or rejects the handshake). Nested routers that match
 * nothing let their parent try its later routes.
 *
 * @example
 * ```ts
 * const app = ProtocolTypeRouter({
 *   websocket: URLRouter([
 *     route('ws/chat/:room/', ChatConsumer.asApp()),
 *     route('ws/books/<int:book>/', URLRouter([route('pages/<int:page>/', PageConsumer.asApp())])),
 *   ]),
 * })
 * // "/ws/books/7/pages/3/" runs PageConsumer with scope.urlRoute = { args: [], kwargs: { book: 7, page: 3 } }
 * ```
 */
export function URLRouter(routes: readonly RouteEntry[]): PathRoutingApplication {
  const compiled = compileRoutes(routes)
  // Not async: the matched application's promise is returned as is, so a long-lived connection holds no suspended
  // router frame (a generator, its promise and await closures: a few hundred bytes per connection per router).
  const router = (scope: Scope, receive: Receive, send: Send): Promise<void> => {
    try {
      return routeFrom(0, startCall(compiled, scope, receive, send))
    } catch (error) {
      return Promise.reject(error)
    }
  }
  return markPathRouting(router)
}

/** What a router matches against: only the outermost applies `scope.rootPath`, nested ones `pathRemaining`. */
function startCall(routes: readonly CompiledRoute[], scope: Scope, receive: Receive, send: Send): RouteCall {
  if (scope.type !== 'websocket' && scope.type !== 'http') {
    throw new UnknownProtocolError(
      `URLRouter routes "websocket" and "http" scopes by path, got scope type ${describeKey(scope.type)}; ` +
        'route background channels with ChannelNameRouter',
    )
  }
  const outermost = scope.pathRemaining === undefined
  const path = outermost ? pathInsideRoot(scope) : scope.pathRemaining
  // Channels strips every leading slash, at every level: "/a//b/" nests like "a/b/".
  const rest = path === undefined ? undefined : stripLeadingSlashes(path)
  return { routes, scope, receive, send, rest, outermost }
}

/** Runs the first route from `start` on that matches; throws (synchronously) when none does. */
function routeFrom(start: number, call: RouteCall): Promise<void> {
  const { routes, scope, receive, send, rest } = call
  if (rest !== undefined) {
    for (let index = start; index < routes.length; index++) {
      const candidate = routes[index]
      const found = candidate?.pattern.match(rest) ?? null
      if (candidate === undefined || found === null) continue
      if (!candidate.nested) {
        return Promise.resolve(candidate.app(childScope(scope, found, candidate.kwargs, undefined), receive, send))
      }
      return tryNested(index, candidate, found, call)
    }
  }
  return noRoute(call)
}

/** A nested router may find nothing: this router then tries its later routes. */
async function tryNested(index: number, candidate: CompiledRoute, found: PatternMatch, call: RouteCall): Promise<void> {
  const attempt = {}
  try {
    await candidate.app(childScope(call.scope, found, candidate.kwargs, attempt), call.receive, call.send)
  } catch (error) {
    if (error instanceof RouteNotFoundError && nestedMisses.get(error) === attempt) {
      await routeFrom(index + 1, call)
      return
    }
    throw error
  }
}

/** A nested router's miss is tagged for its parent; the outermost router's is logged and ends the call. */
function noRoute({ scope, outermost }: RouteCall): never {
  if (!outermost) {
    const miss = new RouteNotFoundError(`No route found for path ${JSON.stringify(scope.pathRemaining)}`)
    const token = (scope as unknown as Readonly<Record<symbol, unknown>>)[ROUTE_ATTEMPT]
    if (typeof token === 'object' && token !== null) nestedMisses.set(miss, token)
    throw miss
  }
  // The path only: query strings and headers can carry tokens.
  scope.logger?.info({ path: scope.path }, 'no route for path')
  throw new RouteNotFoundError(`No route found for path ${JSON.stringify(scope.path)}`)
}

/**
 * The path below `scope.rootPath`, or `undefined` when the path is outside it. Unlike Channels' plain prefix test,
 * the root must end at a segment boundary: root `/api` does not contain `/apiv2/`.
 */
function pathInsideRoot(scope: WebsocketScope | HttpScope): string | undefined {
  const root = (scope.rootPath ?? '').replace(/\/+$/, '')
  if (root === '') return scope.path
  if (scope.path === root) return ''
  return scope.path.startsWith(`${root}/`) ? scope.path.slice(root.length) : undefined
}

const NO_CAPTURES: UrlRoute = Object.freeze({ args: Object.freeze([]), kwargs: Object.freeze({}) })

function childScope(scope: Scope, found: PatternMatch, defaults: RouteKwargs, attempt: object | undefined): Scope {
  const outer = scope.urlRoute
  const args = [...(outer?.args ?? []), ...found.args]
  // Django: the route's default kwargs win over captured ones, and both over the outer routers'.
  const kwargs = { ...outer?.kwargs, ...found.kwargs, ...defaults }
  // A route without parameters (the common `/ws/chat/`) shares one frozen empty value across connections.
  const urlRoute: UrlRoute =
    args.length === 0 && Object.keys(kwargs).length === 0
      ? NO_CAPTURES
      : Object.freeze({ args: Object.freeze(args), kwargs: Object.freeze(kwargs) })
  // A new object every time: the caller's scope is never changed.
  const child: Record<string | symbol, unknown> = { ...scope, pathRemaining: found.remaining, urlRoute }
  if (attempt === undefined) Reflect.deleteProperty(child, ROUTE_ATTEMPT)
  else child[ROUTE_ATTEMPT] = attempt
  return child as unknown as Scope
}
