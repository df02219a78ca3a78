import { describe, expect, it } from 'vitest'

import type { Application, Scope } from '../../../src/application.js'
import { InvalidOptionError, RouteNotFoundError, UnknownProtocolError } from '../../../src/errors.js'
import { defineMiddleware, withScope } from '../../../src/middleware/base-middleware.js'
import { markPathRouting } from '../../../src/routing/path-routing.js'
import { URLRouter, route } from '../../../src/routing/url-router.js'
import {
  captureLogs,
  channelScope,
  deepFreeze,
  httpScope,
  noReceive,
  noSend,
  recorder,
  wsScope,
  type Call,
} from './fakes.js'

async function call(app: Application, scope: Scope): Promise<void> {
  await app(deepFreeze(scope), noReceive, noSend)
}

function urlRouteOf(recorded: Call): unknown {
  return recorded.scope.urlRoute
}

// Channels' tests/test_routing.py, case by case; apps record their calls instead of returning 1, 2, 3...
describe("URLRouter: Channels' test_routing.py", () => {
  it('test_url_router: plain, regex, positional, keyword and default-kwarg routes; root_path; no match', async () => {
    const { app, last } = recorder()
    const router = URLRouter([
      route('', app('1')),
      route('foo/', app('2')),
      route(/bar/, app('3')),
      route(/^posarg\/(\d+)\/$/, app('4')),
      route('kwarg/<str:name>/', app('5')),
      route('defaultkwargs/', app('6'), { kwargs: { default: 42 } }),
    ])

    await call(router, httpScope('/'))
    expect(last().name).toBe('1')
    await call(router, httpScope('/foo/'))
    expect(last().name).toBe('2')
    await call(router, httpScope('/bar/'))
    expect(last().name).toBe('3')
    await call(router, httpScope('/bar/baz/'))
    expect(last().name).toBe('3')

    await call(router, httpScope('/posarg/123/'))
    expect(last().name).toBe('4')
    expect(urlRouteOf(last())).toEqual({ args: ['123'], kwargs: {} })
    await call(router, httpScope('/posarg/456/'))
    expect(urlRouteOf(last())).toEqual({ args: ['456'], kwargs: {} })

    await call(router, httpScope('/kwarg/hello/'))
    expect(last().name).toBe('5')
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { name: 'hello' } })
    await call(router, httpScope('/kwarg/hellothere/'))
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { name: 'hellothere' } })

    await call(router, httpScope('/defaultkwargs/'))
    expect(last().name).toBe('6')
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { default: 42 } })

    await call(router, httpScope('/root/', { rootPath: '/root' }))
    expect(last().name).toBe('1')
    await call(router, httpScope('/root/foo/', { rootPath: '/root' }))
    expect(last().name).toBe('2')
    await expect(call(router, httpScope('/', { rootPath: '/root' }))).rejects.toThrow(RouteNotFoundError)

    await expect(call(router, httpScope('/nonexistent/'))).rejects.toThrow(RouteNotFoundError)
  })

  it('test_url_router_nesting: regex captures of nested routers add up, kwargs and args alike', async () => {
    const { app, last } = recorder()
    const testApp = app('test')
    const inner = URLRouter([
      route(/^book\/(?<book>[\w-]+)\/page\/(?<page>\d+)\/$/, testApp),
      route(/^test\/(\d+)\/$/, testApp),
    ])
    const outer = URLRouter([
      route(/^universe\/(?<universe>\d+)\/author\/(?<author>\w+)\//, inner),
      route(/^positional\/(\w+)\//, inner),
    ])

    await call(outer, httpScope('/universe/42/author/andrewgodwin/book/channels-guide/page/10/'))
    expect(urlRouteOf(last())).toEqual({
      args: [],
      kwargs: { book: 'channels-guide', author: 'andrewgodwin', page: '10', universe: '42' },
    })

    await call(outer, httpScope('/positional/foo/test/3/'))
    expect(urlRouteOf(last())).toEqual({ args: ['foo', '3'], kwargs: {} })
  })

  it('test_url_router_nesting_path: path() converters through a middleware flagged as path routing', async () => {
    const { app, last } = recorder()
    const inner = URLRouter([route('test/<int:page>/', app('test'))])
    // Some middleware which hides the fact that there is an inner URLRouter, opting in by hand.
    const hiding = markPathRouting(async (scope, receive, send) => {
      await inner(scope, receive, send)
    })
    const outer = URLRouter([route('number/<int:number>/', hiding)])

    await call(inner, httpScope('/test/3/'))
    expect(last().name).toBe('test')
    await call(outer, httpScope('/number/42/test/3/'))
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { number: 42, page: 3 } })
    await expect(call(outer, httpScope('/number/42/test/3/bla/'))).rejects.toThrow(RouteNotFoundError)
    await expect(call(outer, httpScope('/number/42/blub/'))).rejects.toThrow(RouteNotFoundError)
  })

  it('test_url_router_path: bare <name> is a string, <int:year> a number', async () => {
    const { app, last } = recorder()
    const kwargApp = app('3')
    const router = URLRouter([
      route('', app('1')),
      route('foo/', app('2')),
      route('author/<name>/', kwargApp),
      route('year/<int:year>/', kwargApp),
    ])
    await call(router, httpScope('/'))
    expect(last().name).toBe('1')
    await call(router, httpScope('/foo/'))
    expect(last().name).toBe('2')
    await call(router, httpScope('/author/andrewgodwin/'))
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { name: 'andrewgodwin' } })
    await call(router, httpScope('/year/2012/'))
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { year: 2012 } })
    await expect(call(router, httpScope('/nonexistent/'))).rejects.toThrow(RouteNotFoundError)
  })

  it('test_path_remaining: an inner router that finds nothing lets the outer one try later routes', async () => {
    const { app, last } = recorder()
    const inner = URLRouter([route('no-match/', app('1'))])
    const outer = URLRouter([route('prefix/', inner), route('prefix/stuff/', app('2'))])
    const outermost = URLRouter([route('', outer)])

    await call(outermost, httpScope('/prefix/stuff/'))
    expect(last().name).toBe('2')
    await call(outermost, httpScope('/root/prefix/stuff/', { rootPath: '/root' }))
    expect(last().name).toBe('2')
    await expect(call(outermost, httpScope('/root/root/prefix/stuff/', { rootPath: '/root' }))).rejects.toThrow(
      RouteNotFoundError,
    )
    await expect(call(outermost, httpScope('/root/prefix/root/stuff/', { rootPath: '/root' }))).rejects.toThrow(
      RouteNotFoundError,
    )
  })

  it('test_invalid_routes: include() has no equivalent; an array of routes as the app points to URLRouter', () => {
    const nested = [route('a/', recorder().app('a'))]
    expect(() => URLRouter([['', nested as unknown as Application]])).toThrow(InvalidOptionError)
    expect(() => URLRouter([['', nested as unknown as Application]])).toThrow(/pass URLRouter\(\[\.\.\.\]\)/)
  })
})

describe('URLRouter: patterns', () => {
  it('accepts patterns with or without a leading slash, strings and RegExps alike', async () => {
    const { app, last } = recorder()
    const router = URLRouter([
      route('/ws/chat/:room/', app('express')),
      route('ws/page/<int:page>/', app('django')),
      route(/^\/ws\/legacy\/(?<room>\w+)\/$/, app('regex')),
      route('/', app('root')),
    ])
    await call(router, wsScope('/ws/chat/lobby/'))
    expect(last()).toMatchObject({ name: 'express', scope: { urlRoute: { kwargs: { room: 'lobby' } } } })
    await call(router, wsScope('/ws/page/7/'))
    expect(last()).toMatchObject({ name: 'django', scope: { urlRoute: { kwargs: { page: 7 } } } })
    await call(router, wsScope('/ws/legacy/old/'))
    expect(last()).toMatchObject({ name: 'regex', scope: { urlRoute: { kwargs: { room: 'old' } } } })
    await call(router, wsScope('/'))
    expect(last().name).toBe('root')
  })

  it('accepts [pattern, app] and [pattern, app, options] tuples', async () => {
    const { app, last } = recorder()
    const router = URLRouter([
      ['a/', app('a')],
      ['b/:id/', app('b'), { kwargs: { id: 'fixed', extra: 1 } }],
    ])
    await call(router, httpScope('/a/'))
    expect(last().name).toBe('a')
    await call(router, httpScope('/b/7/'))
    // Route kwargs win over captured ones (Django).
    expect(urlRouteOf(last())).toEqual({ args: [], kwargs: { id: 'fixed', extra: 1 } })
  })

  it('takes the first matching route', async () => {
    const { app, last } = recorder()
    const router = URLRouter([route('x/<int:n>/', app('int')), route('x/<str:s>/', app('str'))])
    await call(router, httpScope('/x/5/'))
    expect(last().name).toBe('int')
    await call(router, httpScope('/x/five/'))
    expect(last().name).toBe('str')
  })

  it('passes the unmatched rest as pathRemaining', async () => {
    const { app, last } = recorder()
    const router = URLRouter([route(/^files\//, app('files'))])
    await call(router, httpScope('/files/a/b.txt'))
    expect(last().scope.pathRemaining).toBe('a/b.txt')
  })

  it('does not let a prefix without a trailing slash match inside a segment', async () => {
    const { app, last } = recorder()
    const inner = URLRouter([route(':room/', app('room')), route('', app('index'))])
    const router = URLRouter([route('/chat', inner)])
    await call(router, wsScope('/chat/lobby/'))
    expect(last()).toMatchObject({ name: 'room', scope: { urlRoute: { kwargs: { room: 'lobby' } } } })
    await call(router, wsScope('/chat'))
    expect(last().name).toBe('index')
    // Django would match "chat" + "lobby/" here.
    await expect(call(router, wsScope('/chatlobby/'))).rejects.toThrow(RouteNotFoundError)
  })

  it('treats rootPath as whole segments', async () => {
    const { app, last } = recorder()
    const router = URLRouter([route('', app('index')), route('v2/', app('v2'))])
    await call(router, httpScope('/api', { rootPath: '/api/' }))
    expect(last().name).toBe('index')
    await expect(call(router, httpScope('/apiv2/', { rootPath: '/api' }))).rejects.toThrow(RouteNotFoundError)
  })
})

describe('URLRouter: nesting', () => {
  it('nests through middleware built with defineMiddleware, which carries the marker', async () => {
    const { app, last } = recorder()
    const Tagging = defineMiddleware(async (scope, receive, send, inner) => {
      await inner(withScope(scope, { tagged: true }), receive, send)
    })
    const router = URLRouter([
      route('number/<int:number>/', Tagging(URLRouter([route('test/<int:page>/', app('test'))]))),
      route('number/<int:number>/other/', app('other')),
    ])
    await call(router, httpScope('/number/42/test/3/'))
    expect(last().scope).toMatchObject({ tagged: true, urlRoute: { args: [], kwargs: { number: 42, page: 3 } } })
    // The inner router's miss passes back through the middleware to the outer router.
    await call(router, httpScope('/number/42/other/'))
    expect(last().name).toBe('other')
  })

  it('does not mistake a RouteNotFoundError thrown by an application that ran for a nested miss', async () => {
    const { app, calls } = recorder()
    const failing: Application = async (scope, receive, send) => {
      await app('failing')(scope, receive, send)
      throw new RouteNotFoundError('from inside the consumer')
    }
    const router = URLRouter([route('a/', URLRouter([route('b/', failing)])), route('a/b/', app('fallback'))])
    await expect(call(router, httpScope('/a/b/'))).rejects.toThrow('from inside the consumer')
    expect(calls.map((c) => c.name)).toEqual(['failing'])
  })

  it('gives every application a new scope and leaves the caller’s unchanged', async () => {
    const { app, last } = recorder()
    const router = URLRouter([route('a/', URLRouter([route('b/<int:n>/', app('b'))]))])
    const scope = deepFreeze(httpScope('/a/b/1/', { urlRoute: { args: ['outer'], kwargs: { outer: 1 } } }))
    await router(scope, noReceive, noSend)
    expect(last().scope).not.toBe(scope)
    expect(last().scope.urlRoute).toEqual({ args: ['outer'], kwargs: { outer: 1, n: 1 } })
    expect(scope.urlRoute).toEqual({ args: ['outer'], kwargs: { outer: 1 } })
    expect(scope).not.toHaveProperty('pathRemaining')
  })
})

describe('URLRouter: errors and logging', () => {
  it('rejects the outermost miss with the path in the message and logs the path only', async () => {
    const { logger, lines } = captureLogs()
    const router = URLRouter([route('a/', URLRouter([route('b/', recorder().app('b'))]))])
    const scope = wsScope('/a/x/', {
      queryString: 'token=secret',
      headers: [['cookie', 'session=secret']],
      logger,
    })
    await expect(call(router, scope)).rejects.toThrow('No route found for path "/a/x/"')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 30, msg: 'no route for path', path: '/a/x/' })
    expect(JSON.stringify(lines)).not.toContain('secret')
  })

  it('refuses channel scopes with UnknownProtocolError', async () => {
    const router = URLRouter([route('', recorder().app('a'))])
    await expect(call(router, channelScope('jobs'))).rejects.toThrow(UnknownProtocolError)
    await expect(call(router, channelScope('jobs'))).rejects.toThrow(/ChannelNameRouter/)
  })

  it('validates routes when built', () => {
    const app = recorder().app('a')
    expect(() => URLRouter('a/' as never)).toThrow(InvalidOptionError)
    expect(() => URLRouter([42 as never])).toThrow('Expected `routes[0]`')
    expect(() => URLRouter([[42 as never, app]])).toThrow('Expected `routes[0].pattern`')
    expect(() => URLRouter([route('a/', 'app' as never)])).toThrow('Expected `routes[0].app`')
    expect(() => route('a/', app, { kwargs: { x: {} as never } })).toThrow('Expected `kwargs.x`')
    expect(() => URLRouter([['a/', app, { kwargs: { x: Number.NaN } }]])).toThrow('Expected `routes[0].kwargs.x`')
    expect(() => URLRouter([route('a/<float:x>/', app)])).toThrow(/using the converters str, slug, uuid, path, int/)
  })
})
