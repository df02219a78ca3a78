import { describe, expect, it, vi } from 'vitest'

import type { Application, Scope } from '../../../src/application.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { AuthMiddleware } from '../../../src/middleware/auth.js'
import { bearerToken, bearerTokenAuth } from '../../../src/middleware/bearer-token-auth.js'
import { signCookieValue } from '../../../src/middleware/cookie-signing.js'
import { CookieMiddleware } from '../../../src/middleware/cookies.js'
import { signedCookieAuth } from '../../../src/middleware/signed-cookie-auth.js'
import { isPathRouting } from '../../../src/routing/path-routing.js'
import { URLRouter } from '../../../src/routing/url-router.js'
import {
  captureLogs,
  channelScope,
  connection,
  deepFreeze,
  httpScope,
  noReceive,
  noSend,
  recorder,
  wsScope,
} from '../routing/fakes.js'

interface User {
  readonly id: string
}

const SECRET = 'current-secret-0123456789abcdefghij'
const OLD_SECRET = 'previous-secret-0123456789abcdefghi'
const USERS = new Map<string, User>([['42', { id: '42' }]])

async function userSeenBy(app: (inner: Application) => Application, scope: Scope): Promise<unknown> {
  const { app: named, last } = recorder()
  await app(named('inner'))(deepFreeze(scope), noReceive, noSend)
  return last().scope.user
}

describe('AuthMiddleware', () => {
  it('puts what authenticate returns into scope.user, without touching the outer scope', async () => {
    const { app, last } = recorder()
    const scope = deepFreeze(wsScope('/'))
    await AuthMiddleware(app('inner'), { authenticate: () => ({ id: '1' }) })(scope, noReceive, noSend)
    expect(last().scope.user).toEqual({ id: '1' })
    expect(scope).not.toHaveProperty('user')
  })

  it('awaits an async authenticate and treats null and undefined as anonymous (null)', async () => {
    const asyncAuth = (inner: Application) => AuthMiddleware(inner, { authenticate: async () => ({ id: '2' }) })
    expect(await userSeenBy(asyncAuth, httpScope())).toEqual({ id: '2' })
    expect(await userSeenBy((inner) => AuthMiddleware(inner, { authenticate: () => null }), httpScope())).toBeNull()
    const jsAuth = (inner: Application) => AuthMiddleware(inner, { authenticate: () => undefined as never })
    expect(await userSeenBy(jsAuth, httpScope())).toBeNull()
  })

  it('rejects the WebSocket handshake when authenticate throws, logging the message only', async () => {
    const { logger, lines } = captureLogs()
    const { app, calls } = recorder()
    const failing = AuthMiddleware(app('inner'), {
      authenticate: () => {
        throw new Error('database unavailable')
      },
    })
    const { receive, send, sent } = connection([{ type: 'websocket.connect' }])
    const scope = wsScope('/', { headers: [['cookie', 'uid=secret-cookie']], queryString: 'token=secret', logger })
    await failing(deepFreeze(scope), receive, send)
    expect(sent).toEqual([{ type: 'websocket.close' }])
    expect(calls).toEqual([])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 40, msg: 'websocket authentication failed', error: 'database unavailable' })
    expect(JSON.stringify(lines)).not.toContain('secret')
    expect(JSON.stringify(lines)).not.toContain('stack')
  })

  it('lets the error propagate for http and channel scopes (an HTTP 500, a failed job)', async () => {
    const failing = AuthMiddleware(recorder().app('inner'), {
      authenticate: async () => {
        throw new Error('bug')
      },
    })
    await expect(failing(httpScope(), noReceive, noSend)).rejects.toThrow('bug')
    await expect(failing(channelScope('jobs'), noReceive, noSend)).rejects.toThrow('bug')
  })

  it('validates its options and keeps a URLRouter nestable', () => {
    const app = recorder().app('inner')
    expect(() => AuthMiddleware(app, {} as never)).toThrow('Expected `authenticate` to be a function')
    expect(() => AuthMiddleware(app, undefined as never)).toThrow(InvalidOptionError)
    expect(() => AuthMiddleware('app' as never, { authenticate: () => null })).toThrow('Expected `app`')
    expect(isPathRouting(AuthMiddleware(URLRouter([]), { authenticate: () => null }))).toBe(true)
  })
})

describe('signedCookieAuth', () => {
  const loadUser = (id: string): User | null => USERS.get(id) ?? null
  const authenticate = signedCookieAuth({ cookieName: 'uid', secrets: [SECRET, OLD_SECRET], loadUser })
  const withCookie = (cookie: string): Scope => wsScope('/', { headers: [['cookie', cookie]] })
  const stack = (inner: Application) => CookieMiddleware(AuthMiddleware(inner, { authenticate }))

  it('loads the user named by a valid cookie, with or without CookieMiddleware', async () => {
    const cookie = `uid=${encodeURIComponent(signCookieValue('42', SECRET))}`
    expect(await authenticate(withCookie(cookie))).toEqual({ id: '42' })
    expect(await userSeenBy(stack, withCookie(cookie))).toEqual({ id: '42' })
  })

  it('accepts cookies signed with a retired secret still listed', async () => {
    expect(await authenticate(withCookie(`uid=${signCookieValue('42', OLD_SECRET)}`))).toEqual({ id: '42' })
  })

  it('is anonymous without the cookie, without calling loadUser', async () => {
    const load = vi.fn(loadUser)
    const auth = signedCookieAuth({ cookieName: 'uid', secrets: [SECRET], loadUser: load })
    expect(await auth(withCookie('other=1'))).toBeNull()
    expect(await auth(wsScope('/'))).toBeNull()
    expect(await auth(channelScope('jobs'))).toBeNull()
    expect(await auth(wsScope('/', { cookies: { toString: 'x' } }))).toBeNull()
    expect(load).not.toHaveBeenCalled()
  })

  it('is anonymous for a tampered cookie, logging the cookie name only', async () => {
    const { logger, lines } = captureLogs()
    const load = vi.fn(loadUser)
    const auth = signedCookieAuth({ cookieName: 'uid', secrets: [SECRET], loadUser: load })
    const forged = signCookieValue('42', SECRET).replace(/^42/, '43')
    expect(await auth(wsScope('/', { headers: [['cookie', `uid=${forged}`]], logger }))).toBeNull()
    const unknownKey = signCookieValue('42', 'someone-elses-secret-0123456789abcdef')
    expect(await auth(wsScope('/', { cookies: { uid: unknownKey }, logger }))).toBeNull()
    expect(load).not.toHaveBeenCalled()
    expect(lines.map((line) => [line.msg, line.cookie])).toEqual([
      ['signed cookie has a bad signature', 'uid'],
      ['signed cookie has a bad signature', 'uid'],
    ])
    expect(JSON.stringify(lines)).not.toContain(forged)
  })

  it('is anonymous when the user is gone', async () => {
    expect(await authenticate(withCookie(`uid=${signCookieValue('7', SECRET)}`))).toBeNull()
  })

  it('validates its options when built', () => {
    expect(() => signedCookieAuth({ cookieName: '', secrets: [SECRET], loadUser })).toThrow('Expected `cookieName`')
    expect(() => signedCookieAuth({ cookieName: 'uid', secrets: ['short'], loadUser })).toThrow(
      'Expected `secrets[0].length`',
    )
    expect(() => signedCookieAuth({ cookieName: 'uid', secrets: [SECRET], loadUser: 1 as never })).toThrow(
      'Expected `loadUser`',
    )
  })
})

describe('bearerToken', () => {
  const authorization = (value: string, queryString = ''): Scope =>
    httpScope('/', { headers: [['authorization', value]], queryString })

  it('reads Authorization: Bearer, with any case of the scheme', () => {
    expect(bearerToken(authorization('Bearer abc.DEF-_~+/=='))).toBe('abc.DEF-_~+/==')
    expect(bearerToken(authorization('bearer   abc  '))).toBe('abc')
  })

  it('falls back to the token query parameter, decoded', () => {
    expect(bearerToken(wsScope('/', { queryString: 'room=1&token=a%2Bb%20c' }))).toBe('a+b c')
    expect(bearerToken(authorization('Basic dXNlcjpwYXNz', 'token=fromquery'))).toBe('fromquery')
  })

  it('prefers the header to the query', () => {
    expect(bearerToken(authorization('Bearer fromheader', 'token=fromquery'))).toBe('fromheader')
  })

  it('reads another query parameter, or none', () => {
    const scope = wsScope('/', { queryString: 'token=a&access_token=b' })
    expect(bearerToken(scope, { queryParam: 'access_token' })).toBe('b')
    expect(bearerToken(scope, { queryParam: false })).toBeUndefined()
  })

  it('is undefined without a token, for an empty one and for channel scopes', () => {
    expect(bearerToken(wsScope('/'))).toBeUndefined()
    expect(bearerToken(wsScope('/', { queryString: 'token=' }))).toBeUndefined()
    expect(bearerToken(authorization('Bearer '))).toBeUndefined()
    expect(bearerToken(authorization('Bearer two words'))).toBeUndefined()
    expect(bearerToken(channelScope('jobs'))).toBeUndefined()
  })
})

describe('bearerTokenAuth', () => {
  it('verifies the token and is anonymous without one, without calling verify', async () => {
    const verify = vi.fn(async (token: string) => (token === 'good' ? { id: '1' } : null))
    const authenticate = bearerTokenAuth({ verify })
    expect(await authenticate(wsScope('/', { queryString: 'token=good' }))).toEqual({ id: '1' })
    expect(await authenticate(wsScope('/', { queryString: 'token=bad' }))).toBeNull()
    expect(verify.mock.calls).toEqual([['good'], ['bad']])
    expect(await authenticate(wsScope('/'))).toBeNull()
    expect(verify).toHaveBeenCalledTimes(2)
  })

  it('honours queryParam: false', async () => {
    const authenticate = bearerTokenAuth({ verify: () => ({ id: '1' }), queryParam: false })
    expect(await authenticate(wsScope('/', { queryString: 'token=good' }))).toBeNull()
  })

  it('through AuthMiddleware, a verify that throws rejects the handshake', async () => {
    const app = AuthMiddleware(recorder().app('inner'), {
      authenticate: bearerTokenAuth({
        verify: () => {
          throw new Error('jwt malformed')
        },
      }),
    })
    const { receive, send, sent } = connection([{ type: 'websocket.connect' }])
    await app(wsScope('/', { queryString: 'token=x' }), receive, send)
    expect(sent).toEqual([{ type: 'websocket.close' }])
  })

  it('validates its options when built', () => {
    expect(() => bearerTokenAuth({ verify: undefined as never })).toThrow('Expected `verify`')
    expect(() => bearerTokenAuth({ verify: () => null, queryParam: '' })).toThrow('Expected `queryParam`')
  })
})
