import { describe, expect, it } from 'vitest'

import type { Application, Scope } from '../../../src/application.js'
import { InvalidOptionError } from '../../../src/errors.js'
import { defineMiddleware, scopeMiddleware, withScope } from '../../../src/middleware/base-middleware.js'
import { isPathRouting, markPathRouting } from '../../../src/routing/path-routing.js'
import { URLRouter, route } from '../../../src/routing/url-router.js'
import { deepFreeze, httpScope, noReceive, noSend, recorder, wsScope } from '../routing/fakes.js'

describe('withScope', () => {
  it('returns a new scope with the additions and leaves the original alone', () => {
    const scope = deepFreeze(wsScope('/a/', { queryString: 'x=1' }))
    const extended = withScope(scope, { user: 'ann', queryString: 'y=2' })
    expect(extended).not.toBe(scope)
    expect(extended).toMatchObject({ type: 'websocket', path: '/a/', user: 'ann', queryString: 'y=2' })
    expect(scope).not.toHaveProperty('user')
    expect(scope.queryString).toBe('x=1')
  })
})

describe('defineMiddleware', () => {
  it('hands the handler a copy of a frozen outer scope, so even an assignment stays inside', async () => {
    const { app, last } = recorder()
    const Careless = defineMiddleware(async (scope, receive, send, inner) => {
      ;(scope as Record<string, unknown>).touched = true
      await inner(withScope(scope, { added: 1 }), receive, send)
    })
    const outer = deepFreeze(httpScope('/'))
    await Careless(app('inner'))(outer, noReceive, noSend)
    expect(last().scope).toMatchObject({ touched: true, added: 1 })
    expect(outer).not.toHaveProperty('touched')
    expect(outer).not.toHaveProperty('added')
  })

  it('stacks: each layer sees its outer layer’s additions, none leaks outwards', async () => {
    const { app, last } = recorder()
    const seen: Scope[] = []
    const A = scopeMiddleware(() => ({ a: 1 }))
    const B = defineMiddleware(async (scope, receive, send, inner) => {
      seen.push(scope)
      await inner(withScope(scope, { b: 2 }), receive, send)
    })
    const outer = deepFreeze(httpScope('/'))
    await A(B(app('inner')))(outer, noReceive, noSend)
    expect(seen[0]).toMatchObject({ a: 1 })
    expect(seen[0]).not.toHaveProperty('b')
    expect(last().scope).toMatchObject({ a: 1, b: 2 })
  })

  it('awaits async additions', async () => {
    const { app, last } = recorder()
    const Slow = scopeMiddleware(async (scope) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      return { upper: scope.type.toUpperCase() }
    })
    await Slow(app('inner'))(deepFreeze(wsScope()), noReceive, noSend)
    expect(last().scope).toMatchObject({ upper: 'WEBSOCKET' })
  })

  it('carries the path-routing marker of its inner application, and only that', () => {
    const Pass = defineMiddleware((scope, receive, send, inner) => inner(scope, receive, send))
    expect(isPathRouting(Pass(URLRouter([])))).toBe(true)
    expect(isPathRouting(Pass(markPathRouting(async () => undefined)))).toBe(true)
    expect(isPathRouting(Pass(recorder().app('endpoint')))).toBe(false)
  })

  it('lets an outer URLRouter nest through it (Channels’ _path_routing)', async () => {
    const { app, last } = recorder()
    const Pass = defineMiddleware((scope, receive, send, inner) => inner(scope, receive, send))
    const router = URLRouter([route('number/<int:number>/', Pass(URLRouter([route('test/<int:page>/', app('x'))])))])
    await router(deepFreeze(httpScope('/number/1/test/2/')), noReceive, noSend)
    expect(last().scope.urlRoute).toEqual({ args: [], kwargs: { number: 1, page: 2 } })
  })

  it('refuses to wrap something that is not an application', () => {
    const Pass = defineMiddleware((scope, receive, send, inner) => inner(scope, receive, send))
    expect(() => Pass(undefined as unknown as Application)).toThrow(InvalidOptionError)
    expect(() => Pass({} as unknown as Application)).toThrow('Expected `inner` to be an application function')
  })
})
