/**
 * Protection against cross-site WebSocket hijacking: browsers send cookies with a WebSocket handshake from any
 * page, so a socket that authenticates by cookie must check the page's Origin. CORS does not apply to WebSockets.
 */
import type { Application, WebsocketScope } from '../application.js'
import { assertApplication, defineMiddleware } from './base-middleware.js'
import { compileOriginPatterns, effectivePort, hostnameOf, parseOrigin, type ParsedOrigin } from './origin-patterns.js'
import { websocketDenier } from './websocket-denier.js'

/** Decides from the handshake whether a WebSocket may proceed: undefined, or why not. */
type HandshakeCheck = (origin: ParsedOrigin, scope: WebsocketScope) => string | undefined

const MAX_LOGGED_ORIGIN = 200

/**
 * Lets a WebSocket through only when its Origin header matches one of `allowedOrigins` (Channels' rules: see
 * `origin-patterns.ts`); otherwise the handshake is rejected with HTTP 403 and `websocket origin rejected` is
 * logged at info level with the reason (no Origin header; Origin X not in the allowed list). A request without an
 * Origin header (or with several) passes only if the list contains `*`.
 *
 * Only `websocket` scopes are checked. `http` and `channel` scopes pass through unchanged, so one validator can
 * wrap a combined app (Channels raises for them instead); HTTP needs its own CSRF/CORS protection.
 *
 * @example
 * ```ts
 * const app = ProtocolTypeRouter({
 *   websocket: OriginValidator(URLRouter(routes), ['https://example.com', '.example.org']),
 * })
 * ```
 */
export function OriginValidator(app: Application, allowedOrigins: readonly string[]): Application {
  assertApplication(app, 'app')
  const allows = compileOriginPatterns(allowedOrigins, 'allowedOrigins')
  return validateHandshake(app, allows, (origin) => notListed(origin, 'allowedOrigins'))
}

/**
 * Like Django's validator of the same name, with a safer default. Given `allowedHosts` it is
 * `OriginValidator(app, allowedHosts)`. Without it (the default) it allows same-origin sockets only: the Origin's
 * host and port must equal the request's `Host` header (ports compared after filling the scheme's default, so
 * `https://example.com` matches `example.com:443`). A request without an Origin header is refused.
 *
 * Behind a proxy that rewrites `Host`, pass the public hosts explicitly.
 *
 * @example
 * ```ts
 * AllowedHostsOriginValidator(app) // same origin only
 * AllowedHostsOriginValidator(app, ['example.com', '.example.com']) // the site and its subdomains
 * ```
 */
export function AllowedHostsOriginValidator(app: Application, allowedHosts?: readonly string[]): Application {
  assertApplication(app, 'app')
  if (allowedHosts !== undefined) {
    const allows = compileOriginPatterns(allowedHosts, 'allowedHosts')
    return validateHandshake(app, allows, (origin) => notListed(origin, 'allowedHosts'))
  }
  return validateHandshake(app, () => false, sameHostRefusal)
}

function notListed(origin: ParsedOrigin, option: string): string | undefined {
  return `Origin ${origin.scheme}://${origin.hostname}:${origin.port} is not in ${option}`
}

/**
 * `allowsAnyway` passes what the pattern list says (a list with `*` passes even a missing Origin); otherwise a
 * request needs exactly one parsable Origin that `check` accepts. A refusal says why, at info level: a misbehaving
 * or misconfigured client is not a server problem, but its developer needs the reason.
 */
function validateHandshake(
  app: Application,
  allowsAnyway: (origin: ParsedOrigin | null, present: boolean) => boolean,
  check: HandshakeCheck,
): Application {
  return defineMiddleware(async (scope, receive, send, inner) => {
    if (scope.type !== 'websocket') {
      await inner(scope, receive, send)
      return
    }
    const values = scope.headers.filter(([name]) => name === 'origin').map(([, value]) => value)
    const [first] = values
    // Several Origin headers: no browser sends that, and which one to believe is ambiguous, so none is believed.
    const origin = first !== undefined && values.length === 1 ? parseOrigin(first) : null
    const reason = allowsAnyway(origin, first !== undefined) ? undefined : refusal(values, origin, scope, check)
    if (reason === undefined) {
      await inner(scope, receive, send)
      return
    }
    scope.logger?.info({ origin: first?.slice(0, MAX_LOGGED_ORIGIN), reason }, 'websocket origin rejected')
    await websocketDenier(scope, receive, send)
  })(app)
}

function refusal(
  values: readonly string[],
  origin: ParsedOrigin | null,
  scope: WebsocketScope,
  check: HandshakeCheck,
): string | undefined {
  if (values.length === 0) {
    return 'no Origin header: browsers always send one; a Node client must set it (new WebSocket(url, { origin }))'
  }
  if (values.length > 1) return 'several Origin headers'
  if (origin === null) return 'the Origin header is not a URL origin'
  return check(origin, scope)
}

/** The Origin names the server the request reached: same hostname and effective port as the `Host` header. */
function sameHostRefusal(origin: ParsedOrigin, scope: WebsocketScope): string | undefined {
  const hosts = scope.headers.filter(([name]) => name === 'host')
  const host = hosts.length === 1 ? hosts[0]?.[1] : undefined
  const parts = host === undefined ? null : /^(\[[0-9a-f:.]+\]|[^:[\]/?#@\s\\]+)(?::(\d{1,5}))?$/i.exec(host)
  const name = parts?.[1]
  const described = `${origin.scheme}://${origin.hostname}:${origin.port}`
  if (name === undefined) return `no usable Host header to compare Origin ${described} with`
  const hostname = hostnameOf(name)
  if (hostname === origin.hostname && effectivePort(origin.scheme, parts?.[2] ?? '') === origin.port) return undefined
  return (
    `Origin ${described} does not match Host ${host ?? ''}: a page served from another host or port needs ` +
    'AllowedHostsOriginValidator(app, [its origin])'
  )
}
