/** `AuthMiddleware`: who is on the other end, in `scope.user`, before the consumer runs. */
import type { Application, Scope } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import { assertApplication, defineMiddleware, withScope } from './base-middleware.js'
import { websocketDenier } from './websocket-denier.js'

/** Finds the user a connection belongs to; `null` for an anonymous one. */
export type Authenticate<User> = (scope: Scope) => Promise<User | null> | User | null

export interface AuthOptions<User> {
  /**
   * Called once per connection, before the inner application. See `signedCookieAuth` and `bearerTokenAuth`.
   * Return `null` for a missing or invalid credential; throw only for a failure (a database down).
   */
  readonly authenticate: Authenticate<User>
}

/**
 * Sets `scope.user` to what `authenticate(scope)` resolves to (`null`: anonymous) and then runs the inner
 * application, which decides what an anonymous user may do.
 *
 * If `authenticate` throws, the connection does not reach the inner application: a WebSocket handshake is
 * rejected (HTTP 403) and `websocket authentication failed` is logged at warn level with the error's message only;
 * for `http` and `channel` scopes the error propagates, so the bug shows as an HTTP 500 or a failed job rather than
 * as a silently anonymous user.
 *
 * @example
 * ```ts
 * const app = CookieMiddleware(
 *   AuthMiddleware(URLRouter(routes), {
 *     authenticate: signedCookieAuth({ cookieName: 'uid', secrets, loadUser: (id) => users.find(id) }),
 *   }),
 * )
 * // in a consumer: const user = this.scope.user as User | null
 * ```
 */
export function AuthMiddleware<User>(app: Application, options: AuthOptions<User>): Application {
  assertApplication(app, 'app')
  const authenticate: unknown = (options as Partial<AuthOptions<User>> | undefined)?.authenticate
  if (typeof authenticate !== 'function') {
    throw new InvalidOptionError('authenticate', 'a function (scope) => user or null', authenticate)
  }
  return defineMiddleware(async (scope, receive, send, inner) => {
    let user: unknown
    try {
      user = await (authenticate as Authenticate<User>)(scope)
    } catch (error) {
      if (scope.type !== 'websocket') throw error
      // The message only: no stack with local values, no headers, no credentials.
      scope.logger?.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'websocket authentication failed',
      )
      await websocketDenier(scope, receive, send)
      return
    }
    // `undefined` from a JavaScript caller means anonymous too.
    await inner(withScope(scope, { user: user ?? null }), receive, send)
  })(app)
}
