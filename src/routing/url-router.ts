/**
 * `URLRouter`: Channels' path router. Routes are tried in order and the first match wins; the matched application
 * gets a new scope with `urlRoute` (captured values, outermost router first) and `pathRemaining`.
 */
import type { Application, HttpScope, Receive, Scope, Send, UrlRoute, WebsocketScope } from '../application.js'
import { InvalidOptionError, RouteNotFoundError, UnknownProtocolError } from '../errors.js'
import { describeKey } from './describe-key.js'
import { compilePathPattern, stripLeadingSlashes, type PatternMatch, type PathPattern } from './path-pattern.js'
import { isPathRouting, markPathRouting, type PathRoutingApplication } from './path-routing.js'

/** Named values a route adds to `scope.urlRoute.kwargs`. */
export type RouteKwargs = Readonly<Record<string, string | number>>

export interface RouteOptions {
  /**
   * Values merged over the captured ones in `scope.urlRoute.kwargs` (Django's `path(..., kwargs={...})`).
   * @defaultValue `{}`
   */
  readonly kwargs?: RouteKwargs
}

/** One entry of a `URLRouter`, as built by `route()`. */
export interface Route {
  readonly pattern: string | RegExp
  readonly app: Application
  readonly kwargs: RouteKwargs
}

/** What `URLRouter` accepts: `route(...)`, or the same as a tuple. */
export type RouteEntry = Route | readonly [pattern: string | RegExp, app: Application, options?: RouteOptions]

/**
 * A route for `URLRouter`: Django's `path()` and `re_path()` in one.
 *
 * - String patterns: literal text with parameters `<int:page>` (a number), `<str:name>` (one segment; also bare
 *   `<name>` and Express-style `:name`), `<slug:x>`, `<uuid:x>` and `<path:x>` (the rest, slashes included). A
 *   leading `/` is optional. The pattern must match the whole path, unless `app` routes further (a nested
 *   `URLRouter`), in which case it matches a prefix.
 * - RegExp patterns: matched at the start of the path (as if they began with `^`; a leading `\/` is dropped); named
 *   groups become string kwargs, unnamed groups positional args when there are no named ones. Add `$` to require
 *   the whole path.
 *
 * @example
 * ```ts
 * URLRouter([
 *   route('ws/chat/:room/', ChatConsumer.asApp()),
 *   route('ws/page/<int:page>/', PageConsumer.asApp(), { kwargs: { section: 'docs' } }),
 *   route(/^ws\/legacy\/(?<room>\w+)\/$/, LegacyConsumer.asApp()),
 * ])
 * ```
 */
export function route(pattern: string | RegExp, app: Application, options: RouteOptions = {}): Route {
  return Object.freeze({ pattern, app, kwargs: checkKwargs('kwargs', options.kwargs) })
}

/** One call of a router: what it was given and the path left to match (undefined: outside `rootPath`). */
interface RouteCall {
  readonly scope: WebsocketScope | HttpScope
  readonly receive: Receive
  readonly send: Send
  readonly rest: string | undefined
  readonly outermost: boolean
}

interface CompiledRoute {
  readonly pattern: PathPattern
  readonly app: Application
  readonly kwargs: RouteKwargs
  /** The app routes further: prefix match, and a miss inside it lets this router try its next routes. */
  readonly nested: boolean
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
  const entries: unknown = routes
  if (!Array.isArray(entries)) {
    throw new InvalidOptionError('routes', 'an array of route(pattern, app) entries', entries)
  }
  const compiled = (entries as readonly unknown[]).map((entry, index) => compileRoute(entry, index))

  // Not async: the matched application's promise is returned as is, so a long-lived connection holds no suspended
  // router frame (a generator, its promise and await closures: a few hundred bytes per connection per router).
  const router = (scope: Scope, receive: Receive, send: Send): Promise<void> => {
    try {
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
      return routeFrom(0, { scope, receive, send, rest, outermost })
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Runs the first route from `start` on that matches; throws (synchronously) when none does. */
  const routeFrom = (start: number, call: RouteCall): Promise<void> => {
    const { scope, receive, send, rest } = call
    if (rest !== undefined) {
      for (let index = start; index < compiled.length; index++) {
        const candidate = compiled[index]
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
  const tryNested = async (
    index: number,
    candidate: CompiledRoute,
    found: PatternMatch,
    call: RouteCall,
  ): Promise<void> => {
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

  const noRoute = ({ scope, outermost }: RouteCall): never => {
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
  return markPathRouting(router)
}

function compileRoute(entry: unknown, index: number): CompiledRoute {
  const where = `routes[${index}]`
  let pattern: unknown, app: unknown, kwargs: RouteKwargs
  if (Array.isArray(entry)) {
    const [tuplePattern, tupleApp, options] = entry as readonly unknown[]
    if (entry.length < 2 || entry.length > 3 || (options !== undefined && !isObject(options))) {
      throw new InvalidOptionError(where, 'route(pattern, app, options?) or a [pattern, app, options?] tuple', entry)
    }
    pattern = tuplePattern
    app = tupleApp
    kwargs = checkKwargs(`${where}.kwargs`, (options as RouteOptions | undefined)?.kwargs)
  } else if (isObject(entry)) {
    ;({ pattern, app } = entry)
    kwargs = checkKwargs(`${where}.kwargs`, entry.kwargs)
  } else {
    throw new InvalidOptionError(where, 'route(pattern, app, options?) or a [pattern, app, options?] tuple', entry)
  }
  if (typeof app !== 'function') {
    // Channels refuses Django's include() here; the way to nest is a URLRouter, which is an application.
    throw new InvalidOptionError(
      `${where}.app`,
      'an application function (to nest routes, pass URLRouter([...]) instead of an array)',
      app,
    )
  }
  if (typeof pattern !== 'string' && !(pattern instanceof RegExp)) {
    throw new InvalidOptionError(`${where}.pattern`, 'a string such as "chat/<str:room>/" or a RegExp', pattern)
  }
  const nested = isPathRouting(app as Application)
  return { pattern: compilePathPattern(pattern, { endpoint: !nested }), app: app as Application, kwargs, nested }
}

function checkKwargs(option: string, kwargs: unknown): RouteKwargs {
  if (kwargs === undefined) return Object.freeze({})
  if (!isObject(kwargs) || Array.isArray(kwargs)) {
    throw new InvalidOptionError(option, 'an object of string or number values', kwargs)
  }
  for (const [key, value] of Object.entries(kwargs)) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new InvalidOptionError(`${option}.${key}`, 'a string or a finite number', value)
    }
  }
  return Object.freeze({ ...(kwargs as RouteKwargs) })
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
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
