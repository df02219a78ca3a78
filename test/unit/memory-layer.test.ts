import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { InMemoryChannelLayer } from '../../src/index.js'

/** The private bookkeeping, read only to prove nothing lingers once traffic is done. */
interface Internals {
  local: { size: number; queued: number }
  groups: { groups: Map<string, unknown>; memberships: Map<string, unknown>; channelGroups: Map<string, unknown> }
}

const internals = (layer: InMemoryChannelLayer): Internals => layer as unknown as Internals

describe('InMemoryChannelLayer with fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('keeps a message for exactly expiryMs', async () => {
    const layer = new InMemoryChannelLayer({ expiryMs: 60_000 })
    await layer.send('kept', { type: 'a' })
    await layer.send('lost', { type: 'b' })
    vi.advanceTimersByTime(59_999)
    expect(await layer.receive('kept')).toEqual({ type: 'a' })
    vi.advanceTimersByTime(1)
    expect(layer.stats().expired).toBe(1)
    expect(internals(layer).local.size).toBe(0)
    expect(internals(layer).local.queued).toBe(0)
  })

  it('expires memberships exactly groupExpiryMs after the last add', async () => {
    const layer = new InMemoryChannelLayer({ groupExpiryMs: 86_400_000, expiryMs: 1_000_000_000 })
    await layer.groupAdd('room', 'refreshed')
    await layer.groupAdd('room', 'left-alone')
    vi.advanceTimersByTime(43_200_000)
    await layer.groupAdd('room', 'refreshed')
    vi.advanceTimersByTime(43_200_000 - 1)
    await layer.groupSend('room', { type: 'both' })
    vi.advanceTimersByTime(1)
    await layer.groupSend('room', { type: 'one' })
    const received = async (channel: string): Promise<string[]> => {
      const types: string[] = []
      for (;;) {
        const controller = new AbortController()
        const next = layer.receive(channel, { signal: controller.signal })
        controller.abort()
        try {
          types.push((await next).type)
        } catch {
          return types
        }
      }
    }
    expect(await received('refreshed')).toEqual(['both', 'one'])
    expect(await received('left-alone')).toEqual(['both'])
    expect(internals(layer).groups.memberships.size).toBe(1)
  })

  it('drops expired messages lazily in O(1) without timers', async () => {
    const layer = new InMemoryChannelLayer({ expiryMs: 1000, capacity: 10 })
    for (let i = 0; i < 1000; i++) await layer.send(`chan-${i}`, { type: 'x' })
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(layer.stats()).toMatchObject({ sent: 1000, expired: 1000 })
    expect(internals(layer).local.size).toBe(0)
  })
})

describe('InMemoryChannelLayer bookkeeping', () => {
  it('leaves no state behind after 1 000 channel lifecycles', async () => {
    const layer = new InMemoryChannelLayer()
    for (let i = 0; i < 1000; i++) {
      const channel = await layer.newChannel()
      await layer.groupAdd('room', channel)
      await layer.groupAdd(`private-${i}`, channel)
      const waiting = layer.receive(channel)
      await layer.groupSend('room', { type: 'hello' })
      await waiting
      const aborted = new AbortController()
      const cancelled = layer.receive(channel, { signal: aborted.signal })
      aborted.abort()
      await expect(cancelled).rejects.toThrow()
      await layer.groupDiscard('room', channel)
      await layer.groupDiscard(`private-${i}`, channel)
    }
    const { local, groups } = internals(layer)
    expect([local.size, local.queued, groups.groups.size, groups.memberships.size]).toEqual([0, 0, 0, 0])
    expect(groups.channelGroups.size).toBe(0)
    expect(layer.stats()).toMatchObject({ sent: 1000, received: 1000 })
  })

  it('freezes options and received messages', async () => {
    const layer = new InMemoryChannelLayer({ channelCapacity: { 'a.*': 2 } })
    expect(Object.isFrozen(layer.options)).toBe(true)
    expect(Object.isFrozen(layer.options.channelCapacity)).toBe(true)
    await layer.send('c', { type: 'x', nested: { list: [1] } })
    const message = await layer.receive('c')
    expect(Object.isFrozen(message)).toBe(true)
    expect(Object.isFrozen(message.nested)).toBe(true)
  })
})
