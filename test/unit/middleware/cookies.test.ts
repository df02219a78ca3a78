import { describe, expect, it } from 'vitest'

import type { Headers } from '../../../src/application.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { CookieMiddleware, deleteCookie, parseCookieHeader, setCookie } from '../../../src/middleware/cookies.js'
import { isPathRouting } from '../../../src/routing/path-routing.js'
import { URLRouter } from '../../../src/routing/url-router.js'
import { channelScope, deepFreeze, httpScope, noReceive, noSend, recorder, wsScope } from '../routing/fakes.js'

describe('parseCookieHeader', () => {
  it('splits pairs, trims spaces and keeps "=" inside values', () => {
    expect(parseCookieHeader('a=1; b = two ;c=x=y')).toEqual({ a: '1', b: 'two', c: 'x=y' })
  })

  it('is empty without a header', () => {
    expect(parseCookieHeader(undefined)).toEqual({})
    expect(parseCookieHeader('')).toEqual({})
  })

  it('tolerates malformed pairs', () => {
    expect(parseCookieHeader('junk; =nameless; ok=1;;  ; also=2')).toEqual({ ok: '1', also: '2' })
  })

  it('removes surrounding quotes and decodes percent-encoding, keeping invalid encodings as sent', () => {
    expect(parseCookieHeader('q="quoted value"; p=a%20b%3Bc; bad=100%; half=%E2%82')).toEqual({
      q: 'quoted value',
      p: 'a b;c',
      bad: '100%',
      half: '%E2%82',
    })
  })

  it('keeps the first of repeated names (the most specific path comes first)', () => {
    expect(parseCookieHeader('id=specific; id=general')).toEqual({ id: 'specific' })
  })

  it('makes no prototype keys: __proto__ is a cookie like any other, and constructor is absent', () => {
    const cookies = parseCookieHeader('__proto__=x; a=1')
    expect(Object.keys(cookies)).toEqual(['__proto__', 'a'])
    expect(cookies.__proto__).toBe('x')
    expect(cookies.constructor).toBeUndefined()
    expect(Object.isFrozen(cookies)).toBe(true)
  })
})

describe('CookieMiddleware', () => {
  it('fills scope.cookies from the first cookie header, without touching the outer scope', async () => {
    const { app, last } = recorder()
    const scope = deepFreeze(
      wsScope('/', {
        headers: [
          ['cookie', 'a=1; b=2'],
          ['cookie', 'c=3'],
        ],
      }),
    )
    await CookieMiddleware(app('inner'))(scope, noReceive, noSend)
    expect(last().scope.cookies).toEqual({ a: '1', b: '2' })
    expect(scope).not.toHaveProperty('cookies')
  })

  it('gives {} when there is no cookie header, for http as for websocket', async () => {
    const { app, last } = recorder()
    await CookieMiddleware(app('inner'))(deepFreeze(httpScope('/')), noReceive, noSend)
    expect(last().scope.cookies).toEqual({})
  })

  it('passes channel scopes through', async () => {
    const { app, last } = recorder()
    await CookieMiddleware(app('inner'))(deepFreeze(channelScope('jobs')), noReceive, noSend)
    expect(last().scope).not.toHaveProperty('cookies')
  })

  it('keeps a URLRouter nestable and refuses a non-application', () => {
    expect(isPathRouting(CookieMiddleware(URLRouter([])))).toBe(true)
    expect(() => CookieMiddleware(null as never)).toThrow(InvalidOptionError)
  })
})

describe('setCookie', () => {
  it("writes Channels' example: Path=/ and SameSite=Lax by default", () => {
    expect(setCookie([], 'Testing-Key', 'testing-value')).toEqual([
      ['set-cookie', 'Testing-Key=testing-value; Path=/; SameSite=Lax'],
    ])
  })

  it('writes every attribute', () => {
    const [, value] = setCookie([], 'sid', 'v', {
      maxAgeS: 3600,
      expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
      path: '/app',
      domain: 'example.com',
      secure: true,
      httpOnly: true,
      sameSite: 'None',
    })[0]!
    expect(value).toBe(
      'sid=v; Max-Age=3600; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/app; Domain=example.com; Secure; HttpOnly; ' +
        'SameSite=None',
    )
  })

  it('returns a new array and leaves the given headers alone', () => {
    const headers: Headers = deepFreeze([['content-type', 'text/plain']])
    const result = setCookie(headers, 'a', 'b')
    expect(result).toEqual([
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=b; Path=/; SameSite=Lax'],
    ])
    expect(headers).toHaveLength(1)
  })

  it('percent-encodes the value so that parseCookieHeader reads it back', () => {
    const value = 'a b; c=d, "e" é'
    const [, header] = setCookie([], 'x', value)[0]!
    const pair = header.split('; ')[0]
    expect(pair).toBe('x=a%20b%3B%20c%3Dd%2C%20%22e%22%20%C3%A9')
    expect(parseCookieHeader(pair)).toEqual({ x: value })
  })

  it.each([
    [{ sameSite: 'lax' as never }, 'Expected `sameSite` to be one of "Strict", "Lax", "None", got "lax"'],
    [{ sameSite: 'None' as const }, /`secure` to be true with sameSite "None"/],
    [{ maxAgeS: 1.5 }, /`maxAgeS`/],
    [{ expires: new Date('nope') }, /`expires`/],
    [{ path: '/a;Domain=evil' }, /`path`/],
    [{ domain: 'a\nb' }, /`domain`/],
    [{ httpOnly: 'yes' as never }, /`httpOnly`/],
  ])('refuses %o', (options, message) => {
    expect(() => setCookie([], 'a', 'b', options)).toThrow(InvalidOptionError)
    expect(() => setCookie([], 'a', 'b', options)).toThrow(message)
  })

  it('refuses bad names and the prefix rules browsers enforce silently', () => {
    expect(() => setCookie([], 'a b', 'v')).toThrow('Expected `name`')
    expect(() => setCookie([], 'a;b', 'v')).toThrow(InvalidOptionError)
    expect(() => setCookie([], '__Secure-id', 'v')).toThrow(/`secure`/)
    expect(() => setCookie([], '__Host-id', 'v', { secure: true, domain: 'example.com' })).toThrow(/__Host-/)
    expect(setCookie([], '__Host-id', 'v', { secure: true })).toHaveLength(1)
  })
})

describe('deleteCookie', () => {
  it('expires the cookie now, on the same path and domain', () => {
    expect(deleteCookie([], 'sid', { domain: 'example.com' })).toEqual([
      [
        'set-cookie',
        'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Domain=example.com; SameSite=Lax',
      ],
    ])
  })

  it('adds Secure for __Secure- and __Host- names', () => {
    expect(deleteCookie([], '__Host-sid')[0]?.[1]).toContain('; Secure;')
  })
})
