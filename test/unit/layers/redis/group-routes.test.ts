import { describe, expect, it } from 'vitest'

import { GroupRoutes } from '../../../../src/layers/redis/group-routes.js'

describe('GroupRoutes', () => {
  it('copies early to nothing for a group never planned, then to what its plan named', () => {
    const routes = new GroupRoutes()
    const first = routes.begin('room')
    expect(first.early).toEqual([])
    routes.finish('room', first, ['q1', 'q2'])
    expect(routes.begin('room').early).toEqual(['q1', 'q2'])
  })

  it('uses a queue a plan added only once no send begun before it is in flight', () => {
    const routes = new GroupRoutes()
    const a = routes.begin('room')
    const b = routes.begin('room')
    // a's plan adds q1 while b (begun without it) is in flight: b will copy to q1 late, so c must not copy early.
    routes.finish('room', a, ['q1'])
    const c = routes.begin('room')
    expect(c.early).toEqual([])
    routes.finish('room', b, ['q1'])
    // c is still in flight, begun without q1: d copies to q1 late too.
    expect(routes.begin('room').early).toEqual([])
  })

  it('keeps what a later plan still names, drops what it does not, and a failed plan changes nothing', () => {
    const routes = new GroupRoutes()
    const a = routes.begin('room')
    routes.finish('room', a, ['q1', 'q2'])
    const b = routes.begin('room')
    expect(b.early).toEqual(['q1', 'q2'])
    const c = routes.begin('room')
    routes.finish('room', b, ['q2', 'q3'])
    // q2 kept at once; q3 new, and c (begun without it) is in flight.
    expect(routes.begin('room').early).toEqual(['q2'])
    routes.finish('room', c, undefined)
    // One send still in flight (the one just begun).
    expect(routes.begin('room').early).toEqual(['q2'])
  })

  it("a send's early queues do not change under it when later plans come back", () => {
    const routes = new GroupRoutes()
    const a = routes.begin('room')
    routes.finish('room', a, ['q1'])
    const b = routes.begin('room')
    const c = routes.begin('room')
    routes.finish('room', b, [])
    expect(c.early).toEqual(['q1'])
  })

  it('forgets the least recently planned group past its capacity, never one with a send in flight', () => {
    const routes = new GroupRoutes(2)
    const busy = routes.begin('busy')
    for (const group of ['a', 'b', 'c']) routes.finish(group, routes.begin(group), [`${group}-queue`])
    expect(routes.size).toBe(2)
    routes.finish('busy', busy, ['busy-queue'])
    expect(routes.begin('busy').early).toEqual(['busy-queue'])
    expect(routes.begin('c').early).toEqual(['c-queue'])
    expect(routes.begin('b').early).toEqual([])
  })
})
