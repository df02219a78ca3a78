/**
 * The route table of a `URLRouter`: `route()` entries (or tuples) checked and compiled once, when the router is
 * built, so a bad route fails at startup, not on the first connection: an entry that is not a route is named by its
 * place (`routes[2].app`), a pattern that does not parse by its text (`route "files/*"`).
 */
import type { Application } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import { compilePathPattern, type PathPattern } from './path-pattern.js'
import { isPathRouting } from './path-routing.js'

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

/** A checked route, its pattern compiled. */
export interface CompiledRoute {
  readonly pattern: PathPattern
  readonly app: Application
  readonly kwargs: RouteKwargs
  /** The app routes further: prefix match, and a miss inside it lets this router try its next routes. */
  readonly nested: boolean
}

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

/** Checks and compiles a `URLRouter`'s routes, in order; an `InvalidOptionError` names the first bad one. */
export function compileRoutes(routes: readonly RouteEntry[]): readonly CompiledRoute[] {
  const entries: unknown = routes
  if (!Array.isArray(entries)) {
    throw new InvalidOptionError('routes', 'an array of route(pattern, app) entries', entries)
  }
  return (entries as readonly unknown[]).map((entry, index) => compileRoute(entry, index))
}

function compileRoute(entry: unknown, index: number): CompiledRoute {
  const where = `routes[${index}]`
  const { pattern, app, kwargs } = entryParts(entry, where)
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

/** The pattern and app of a `route()` or a tuple, unchecked, and its kwargs, checked. */
function entryParts(entry: unknown, where: string): { pattern: unknown; app: unknown; kwargs: RouteKwargs } {
  if (Array.isArray(entry)) {
    const [pattern, app, options] = entry as readonly unknown[]
    if (entry.length < 2 || entry.length > 3 || (options !== undefined && !isObject(options))) {
      throw new InvalidOptionError(where, 'route(pattern, app, options?) or a [pattern, app, options?] tuple', entry)
    }
    return { pattern, app, kwargs: checkKwargs(`${where}.kwargs`, (options as RouteOptions | undefined)?.kwargs) }
  }
  if (isObject(entry)) {
    return { pattern: entry.pattern, app: entry.app, kwargs: checkKwargs(`${where}.kwargs`, entry.kwargs) }
  }
  throw new InvalidOptionError(where, 'route(pattern, app, options?) or a [pattern, app, options?] tuple', entry)
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
