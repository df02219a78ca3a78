/**
 * Protection against cross-site WebSocket hijacking: browsers send cookies with a WebSocket handshake from any
 * page, so a socket that authenticates by cookie must check the page's Origin. CORS does not apply to WebSockets.
 */
import type { Application, WebsocketScope } from '../application.js'
import { assertApplication, defineMiddleware } from './base-middleware.js'
import { compileOriginPatterns, effectivePort, hostnameOf, parseOrigin, type ParsedOrigin } from './origin-patterns.js'
import { websocketDenier } from './websocket-denier.js'

/** Decides from the handshake whether a WebSocket may proceed. */
type HandshakeCheck = (origin: ParsedOrigin | null, present: boolean, scope: WebsocketScope) => boolean

const MAX_LOGGED_ORIGIN = 200

/**
 * Lets a WebSocket through only when its Origin header matches one of `allowedOrigins` (Channels' rules: see
 * `origin-patterns.ts`); otherwise the handshake is rejected with HTTP 403 and `websocket origin rejected` is
 * logged at warn level. A request without an Origin header (or with several) passes only if the list contains
 * `*`.
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
  return validateHandshake(app, (origin, present) => allows(origin, present))
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
    return validateHandshake(app, (origin, present) => allows(origin, present))
  }
  return validateHandshake(app, (origin, _present, scope) => origin !== null && isSameHost(origin, scope))
}

function validateHandshake(app: Application, check: HandshakeCheck): Application {
  return defineMiddleware(async (scope, receive, send, inner) => {
    if (scope.type !== 'websocket') {
      await inner(scope, receive, send)
      return
    }
    const values = scope.headers.filter(([name]) => name === 'origin').map(([, value]) => value)
    const [first] = values
    // Several Origin headers: no browser sends that, and which one to believe is ambiguous, so none is believed.
    const origin = first !== undefined && values.length === 1 ? parseOrigin(first) : null
    if (check(origin, first !== undefined, scope)) {
      await inner(scope, receive, send)
      return
    }
    scope.logger?.warn({ origin: first?.slice(0, MAX_LOGGED_ORIGIN) }, 'websocket origin rejected')
    await websocketDenier(scope, receive, send)
  })(app)
}

/** The Origin names the server the request reached: same hostname and effective port as the `Host` header. */
function isSameHost(origin: ParsedOrigin, scope: WebsocketScope): boolean {
  const hosts = scope.headers.filter(([name]) => name === 'host')
  const host = hosts.length === 1 ? hosts[0]?.[1] : undefined
  const parts = host === undefined ? null : /^(\[[0-9a-f:.]+\]|[^:[\]/?#@\s\\]+)(?::(\d{1,5}))?$/i.exec(host)
  const name = parts?.[1]
  if (name === undefined) return false
  const hostname = hostnameOf(name)
  return hostname === origin.hostname && effectivePort(origin.scheme, parts?.[2] ?? '') === origin.port
}
