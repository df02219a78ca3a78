import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { InMemoryChannelLayer, POSITION_KEY, type Message } from '../../src/index.js'

/** The history's private bookkeeping, read only to prove memory stays bounded. */
interface Internals {
  history: {
    streams: Map<string, unknown>
    lanes: { arrivals: { length: number }; live: number }[]
  }
}

const internals = (layer: InMemoryChannelLayer): Internals => layer as unknown as Internals

const HISTORY = { 'chat.*': { size: 5, ttlMs: 1_000 } }

describe('InMemoryChannelLayer history', () => {
  it('hands every member, and the history, one frozen message with a frozen __position__', async () => {
    const layer = new InMemoryChannelLayer({ history: HISTORY })
    const [one, two] = [await layer.newChannel(), await layer.newChannel()]
    await layer.groupAdd('chat.room', one)
    await layer.groupAdd('chat.room', two)
    await layer.groupSend('chat.room', { type: 'chat.message', nested: { n: 1 } })
    const first = await layer.receive(one)
    expect(await layer.receive(two)).toBe(first)
    expect((await layer.groupHistory('chat.room')).messages[0]).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
    expect(Object.isFrozen(first[POSITION_KEY])).toBe(true)
    expect(Object.isFrozen(first.nested)).toBe(true)
    await layer.close()
  })

  it('returns a fresh array from groupHistory: changing it changes nothing kept', async () => {
    const layer = new InMemoryChannelLayer({ history: HISTORY })
    await layer.groupSend('chat.room', { type: 'chat.message' })
    const { messages } = await layer.groupHistory('chat.room')
    messages.length = 0
    expect((await layer.groupHistory('chat.room')).messages).toHaveLength(1)
    await layer.close()
  })

  it('keeps a replayed message for expiryMs like any other', async () => {
    const layer = new InMemoryChannelLayer({ expiryMs: 200, history: HISTORY })
    await layer.groupSend('chat.room', { type: 'chat.message' })
    const { position } = await layer.groupHistory('chat.room')
    const channel = await layer.newChannel()
    await layer.groupAdd('chat.room', channel, { recover: { offset: 0, epoch: position.epoch } })
    expect(layer.stats()).toMatchObject({ sent: 1, expired: 0 })
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(layer.stats().expired).toBe(1)
    await layer.close()
  })
})

describe('InMemoryChannelLayer history bookkeeping', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('drops expired messages and lost positions, leaving nothing behind', async () => {
    const layer = new InMemoryChannelLayer({ groupExpiryMs: 5_000, history: HISTORY })
    for (let i = 0; i < 100; i++) await layer.groupSend(`chat.${i}`, { type: 'chat.message' })
    const { history } = internals(layer)
    expect(history.streams.size).toBe(100)
    expect(history.lanes[0]).toMatchObject({ live: 100 })
    vi.advanceTimersByTime(1_000)
    layer.stats()
    expect(history.lanes[0]).toMatchObject({ live: 0, arrivals: { length: 0 } })
    expect(history.streams.size).toBe(100)
    vi.advanceTimersByTime(4_000)
    layer.stats()
    expect(history.streams.size).toBe(0)
    await layer.close()
  })

  it('does not pile up messages trimmed by `size` before their ttlMs', async () => {
    const layer = new InMemoryChannelLayer({ history: { 'chat.*': { size: 5, ttlMs: 3_600_000 } } })
    for (let i = 0; i < 20_000; i++) await layer.groupSend('chat.busy', { type: 'chat.message', i })
    const [lane] = internals(layer).history.lanes
    expect(lane?.live).toBe(5)
    expect(lane?.arrivals.length).toBeLessThanOrEqual(2 * 5 + 1024)
    await layer.close()
  })

  it('starts a new epoch when a position is lost, and on flush()', async () => {
    const layer = new InMemoryChannelLayer({ groupExpiryMs: 5_000, history: HISTORY })
    await layer.groupSend('chat.room', { type: 'chat.message' })
    const epochs = new Set([(await layer.groupHistory('chat.room')).position.epoch])
    vi.advanceTimersByTime(5_000)
    epochs.add((await layer.groupHistory('chat.room')).position.epoch)
    await layer.flush()
    epochs.add((await layer.groupHistory('chat.room')).position.epoch)
    expect(epochs.size).toBe(3)
    for (const epoch of epochs) expect(epoch).toMatch(/^[\w-]{8}$/)
    await layer.close()
  })

  it('leaves layers without the history option untouched: no position, no bookkeeping', async () => {
    const layer = new InMemoryChannelLayer()
    const channel = await layer.newChannel()
    expect(await layer.groupAdd('chat.room', channel)).toEqual({})
    await layer.groupSend('chat.room', { type: 'chat.message' })
    const message: Message = await layer.receive(channel)
    expect(POSITION_KEY in message).toBe(false)
    expect(internals(layer).history.streams.size).toBe(0)
    await layer.close()
  })
})
