/** Authentication by a bearer token: the `Authorization` header, or a query parameter for browsers' WebSockets. */
import { getHeader, type Scope } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import type { Authenticate } from './auth.js'

export interface BearerTokenOptions {
  /**
   * The query parameter read when there is no `Authorization: Bearer` header; `false` reads headers only.
   * @defaultValue `'token'`
   */
  readonly queryParam?: string | false
}

export interface BearerTokenAuthOptions<User> extends BearerTokenOptions {
  /** The user a token belongs to, or `null` for an unknown, expired or malformed one (do not throw for those). */
  readonly verify: (token: string) => Promise<User | null> | User | null
}

// RFC 6750 b64token; the scheme name is case-insensitive (RFC 7235).
const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i

/**
 * The bearer token of a connection: from `Authorization: Bearer <token>`, else from the `token` query parameter,
 * because browsers cannot set headers on a WebSocket. `undefined` when there is none (and for `channel` scopes).
 *
 * A token in a URL is exposed where URLs go: proxy and server access logs (Switchyard never logs query strings),
 * and monitoring tools. Prefer short-lived, single-use tickets for the query parameter, or set `queryParam: false`
 * where clients can send headers.
 *
 * @example
 * ```ts
 * // new WebSocket(`wss://example.com/ws/chat/?token=${ticket}`)
 * bearerToken(scope) // ticket
 * ```
 */
export function bearerToken(scope: Scope, options: BearerTokenOptions = {}): string | undefined {
  const { queryParam = 'token' } = options
  if (scope.type === 'channel') return undefined
  const authorization = getHeader(scope, 'authorization')
  const fromHeader = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]
  if (fromHeader !== undefined) return fromHeader
  if (queryParam === false) return undefined
  const fromQuery = new URLSearchParams(scope.queryString).get(queryParam)
  return fromQuery === null || fromQuery === '' ? undefined : fromQuery
}

/**
 * An `authenticate` for `AuthMiddleware`: finds the `bearerToken` and resolves it with `verify`. No token is an
 * anonymous user (`null`) without calling `verify`.
 *
 * @example
 * ```ts
 * const authenticate = bearerTokenAuth({
 *   verify: async (token) => (await tickets.redeem(token))?.user ?? null,
 * })
 * const app = AuthMiddleware(URLRouter(routes), { authenticate })
 * ```
 */
export function bearerTokenAuth<User>(options: BearerTokenAuthOptions<User>): Authenticate<User> {
  const { verify, queryParam = 'token' } = options
  const given: unknown = verify
  if (typeof given !== 'function') throw new InvalidOptionError('verify', 'a function (token) => user or null', given)
  const param: unknown = queryParam
  if (param !== false && (typeof param !== 'string' || param === '')) {
    throw new InvalidOptionError('queryParam', 'a query parameter name or false', param)
  }
  return async (scope) => {
    const token = bearerToken(scope, { queryParam })
    return token === undefined ? null : verify(token)
  }
}
