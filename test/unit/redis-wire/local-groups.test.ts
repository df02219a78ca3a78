import { describe, expect, it } from 'vitest'

import { LocalGroups } from '../../../src/layers/redis/local-groups.js'

// The live-member list is cached per group (every group message asks for it); the cache must never outlive a
// change or the expiry of the oldest membership in it.
describe('LocalGroups.members', () => {
  const EXPIRY_MS = 1_000

  it('returns the live members, the same array while nothing changes', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a!1', 0)
    groups.add('room', 'a!2', 100)
    const first = groups.members('room', EXPIRY_MS, 200)
    expect(first).toEqual(['a!1', 'a!2'])
    expect(groups.members('room', EXPIRY_MS, 500)).toBe(first)
  })

  it('sees an add and a remove at once', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a!1', 0)
    expect(groups.members('room', EXPIRY_MS, 10)).toEqual(['a!1'])
    groups.add('room', 'a!2', 20)
    expect(groups.members('room', EXPIRY_MS, 30)).toEqual(['a!1', 'a!2'])
    groups.remove('room', 'a!1')
    expect(groups.members('room', EXPIRY_MS, 40)).toEqual(['a!2'])
    groups.clear()
    expect(groups.members('room', EXPIRY_MS, 50)).toEqual([])
  })

  it('drops a membership the moment it expires, even from a cached list', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a!1', 0)
    groups.add('room', 'a!2', 500)
    expect(groups.members('room', EXPIRY_MS, 999)).toEqual(['a!1', 'a!2'])
    expect(groups.members('room', EXPIRY_MS, 1_000)).toEqual(['a!2'])
    expect(groups.members('room', EXPIRY_MS, 1_499)).toEqual(['a!2'])
    expect(groups.members('room', EXPIRY_MS, 1_500)).toEqual([])
  })

  it('recomputes for another expiry', () => {
    const groups = new LocalGroups()
    groups.add('room', 'a!1', 0)
    expect(groups.members('room', EXPIRY_MS, 600)).toEqual(['a!1'])
    expect(groups.members('room', 500, 600)).toEqual([])
  })
})
