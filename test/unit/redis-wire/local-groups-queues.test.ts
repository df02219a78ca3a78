import { describe, expect, it } from 'vitest'

import { LocalGroups } from '../../../src/layers/redis/local-groups.js'

// A group send puts one compact copy in each of this process's queues that has members (one queue per
// newChannel prefix); each copy must fan out to that queue's members only (issue 13, item 5).
describe('LocalGroups.membersBehind', () => {
  const EXPIRY_MS = 1_000

  it('splits a group by process queue, whatever order the members joined in', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a.p!1', 0)
    groups.add('room', 'b.p!1', 0)
    groups.add('room', 'a.p!2', 0)
    groups.add('room', 'specific.p!1', 0)
    groups.add('room', 'b.p!2', 0)
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 10)).toEqual(['a.p!1', 'a.p!2'])
    expect(groups.membersBehind('b.p!', 'room', EXPIRY_MS, 10)).toEqual(['b.p!1', 'b.p!2'])
    expect(groups.membersBehind('specific.p!', 'room', EXPIRY_MS, 10)).toEqual(['specific.p!1'])
    expect(groups.members('room', EXPIRY_MS, 10)).toHaveLength(5)
  })

  it('does not mistake a queue for another that starts with the same letters', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a.p!1', 0)
    groups.add('room', 'aa.p!1', 0)
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 10)).toEqual(['a.p!1'])
    expect(groups.membersBehind('aa.p!', 'room', EXPIRY_MS, 10)).toEqual(['aa.p!1'])
  })

  it('with one queue, shares the group list itself, the same array while nothing changes', () => {
    const groups = new LocalGroups()
    groups.add('room', 'specific.p!1', 0)
    groups.add('room', 'specific.p!2', 0)
    const behind = groups.membersBehind('specific.p!', 'room', EXPIRY_MS, 10)
    expect(behind).toEqual(['specific.p!1', 'specific.p!2'])
    expect(groups.members('room', EXPIRY_MS, 20)).toBe(behind)
    expect(groups.membersBehind('specific.p!', 'room', EXPIRY_MS, 30)).toBe(behind)
  })

  it('finds no one behind a queue without members, or in an unknown group', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a.p!1', 0)
    expect(groups.membersBehind('b.p!', 'room', EXPIRY_MS, 10)).toEqual([])
    expect(groups.membersBehind('a.p!', 'hall', EXPIRY_MS, 10)).toEqual([])
  })

  it('stays right when a second queue first appears in another group, and after clear', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a.p!1', 0)
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 10)).toEqual(['a.p!1'])
    groups.add('hall', 'b.p!1', 20)
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 30)).toEqual(['a.p!1'])
    expect(groups.membersBehind('b.p!', 'room', EXPIRY_MS, 30)).toEqual([])
    expect(groups.membersBehind('b.p!', 'hall', EXPIRY_MS, 30)).toEqual(['b.p!1'])
    groups.add('room', 'b.p!2', 40)
    expect(groups.membersBehind('b.p!', 'room', EXPIRY_MS, 50)).toEqual(['b.p!2'])
    groups.clear()
    groups.add('room', 'c.p!1', 60)
    expect(groups.membersBehind('c.p!', 'room', EXPIRY_MS, 70)).toEqual(['c.p!1'])
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 70)).toEqual([])
  })

  it('sees adds, removes and expiries at once', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a.p!1', 0)
    groups.add('room', 'b.p!1', 500)
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 10)).toEqual(['a.p!1'])
    groups.add('room', 'a.p!2', 600)
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 700)).toEqual(['a.p!1', 'a.p!2'])
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 1_000)).toEqual(['a.p!2'])
    groups.remove('room', 'b.p!1')
    expect(groups.membersBehind('b.p!', 'room', EXPIRY_MS, 1_010)).toEqual([])
    expect(groups.membersBehind('a.p!', 'room', EXPIRY_MS, 1_600)).toEqual([])
  })
})
