/** Authentication by a signed cookie holding a user id. */
import { getHeader } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import type { Authenticate } from './auth.js'
import { checkSecrets, unsignCookieValue } from './cookie-signing.js'
import { parseCookieHeader } from './cookies.js'

export interface SignedCookieAuthOptions<User> {
  /** The cookie holding `signCookieValue(userId, secrets[0])`. */
  readonly cookieName: string
  /** The current secret first, then retired ones still accepted (rotation). */
  readonly secrets: readonly string[]
  /** The user with this id, or `null` if there is none any more. */
  readonly loadUser: (id: string) => Promise<User | null> | User | null
}

/**
 * An `authenticate` for `AuthMiddleware`: reads the cookie (from `scope.cookies` when `CookieMiddleware` ran, else
 * from the `cookie` header), verifies its signature and loads the user. No cookie, or a bad signature, is an
 * anonymous user (`null`); a bad signature is logged at info level with the cookie's name only.
 *
 * Browsers send cookies with cross-site WebSocket handshakes: pair this with `AllowedHostsOriginValidator`.
 *
 * @example
 * ```ts
 * const authenticate = signedCookieAuth({
 *   cookieName: 'uid',
 *   secrets: [process.env.COOKIE_SECRET!, process.env.OLD_COOKIE_SECRET!],
 *   loadUser: (id) => db.users.findById(id),
 * })
 * const app = AllowedHostsOriginValidator(AuthMiddleware(URLRouter(routes), { authenticate }))
 * ```
 */
export function signedCookieAuth<User>(options: SignedCookieAuthOptions<User>): Authenticate<User> {
  const { cookieName, secrets, loadUser } = options
  const name: unknown = cookieName
  if (typeof name !== 'string' || name === '') throw new InvalidOptionError('cookieName', 'a cookie name', name)
  checkSecrets(secrets, 'secrets')
  const load: unknown = loadUser
  if (typeof load !== 'function') throw new InvalidOptionError('loadUser', 'a function (id) => user or null', load)
  const accepted = [...secrets]

  return async (scope) => {
    if (scope.type === 'channel') return null
    const cookies = scope.cookies ?? parseCookieHeader(getHeader(scope, 'cookie'))
    // hasOwn: cookies set by other middleware may be a plain object, whose prototype is no cookie.
    if (!Object.hasOwn(cookies, cookieName)) return null
    const id = unsignCookieValue(cookies[cookieName] ?? '', accepted)
    if (id === null) {
      scope.logger?.info({ cookie: cookieName }, 'signed cookie has a bad signature')
      return null
    }
    return loadUser(id)
  }
}
