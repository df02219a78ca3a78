import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { InMemoryChannelLayer, InvalidOptionError, type LayerSendOptions } from '../../src/index.js'
import { DelayedMessages } from '../../src/layers/delayed-messages.js'
import { fakeLogger, T0, takeNow } from './tasks/helpers.js'

const MAX_TIMER_DELAY_MS = 2_147_483_647

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('InMemoryChannelLayer delayed send', () => {
  it('keeps one timer, armed for the earliest due time, and delivers each at its due millisecond', async () => {
    const layer = new InMemoryChannelLayer()
    expect(vi.getTimerCount()).toBe(0)
    await layer.send('later', { type: 'third' }, { delayMs: 3000 })
    await layer.send('later', { type: 'first' }, { delayMs: 1000 })
    await layer.send('later', { type: 'second' }, { delayMs: 2000 })
    await layer.send('later', { type: 'second.too' }, { delayMs: 2000 })
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(999)
    expect(await takeNow(layer, 'later')).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(await takeNow(layer, 'later')).toEqual({ type: 'first' })
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(1000)
    expect(await takeNow(layer, 'later')).toEqual({ type: 'second' })
    expect(await takeNow(layer, 'later')).toEqual({ type: 'second.too' })
    vi.advanceTimersByTime(999)
    expect(await takeNow(layer, 'later')).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(await takeNow(layer, 'later')).toEqual({ type: 'third' })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('counts a delayed message as sent when it is accepted, once', async () => {
    const layer = new InMemoryChannelLayer()
    await layer.send('later', { type: 'x' }, { delayMs: 1000 })
    expect(layer.stats().sent).toBe(1)
    vi.advanceTimersByTime(1000)
    expect(layer.stats().sent).toBe(1)
  })

  it('hands a due message to a waiting receive', async () => {
    const layer = new InMemoryChannelLayer()
    const waiting = layer.receive('later')
    await layer.send('later', { type: 'x' }, { delayMs: 500 })
    vi.advanceTimersByTime(500)
    expect(await waiting).toEqual({ type: 'x' })
    expect(layer.stats()).toMatchObject({ sent: 1, received: 1 })
  })

  it('delivers what is due on any call, even before the timer runs', async () => {
    const layer = new InMemoryChannelLayer()
    await layer.send('later', { type: 'x' }, { delayMs: 500 })
    vi.setSystemTime(T0 + 500)
    expect(await takeNow(layer, 'later')).toEqual({ type: 'x' })
    // The stale timer fires, finds nothing due and leaves nothing armed.
    vi.advanceTimersByTime(500)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('refuses delayed sends past capacity waiting, and delivers the accepted ones past a full queue', async () => {
    const { logger, warn } = fakeLogger()
    const layer = new InMemoryChannelLayer({ capacity: 2, logger })
    await layer.send('full', { type: 'late.1' }, { delayMs: 1000 })
    await layer.send('full', { type: 'late.2' }, { delayMs: 1000 })
    await expect(layer.send('full', { type: 'late.3' }, { delayMs: 1000 })).rejects.toMatchObject({
      code: 'SWY_CHANNEL_FULL',
    })
    await layer.send('full', { type: 'now.1' })
    await layer.send('full', { type: 'now.2' })
    vi.advanceTimersByTime(1000)
    expect(layer.stats()).toMatchObject({ sent: 4, dropped: 0, rejected: 1 })
    for (const type of ['now.1', 'now.2', 'late.1', 'late.2']) expect(await takeNow(layer, 'full')).toEqual({ type })
    expect(await takeNow(layer, 'full')).toBeUndefined()
    expect(warn).not.toHaveBeenCalled()
    // Delivered, they no longer count as waiting: two more may wait.
    await layer.send('full', { type: 'late.4' }, { delayMs: 1000 })
    await layer.send('full', { type: 'late.5' }, { delayMs: 1000 })
  })

  it('counts expiry from the due time', async () => {
    const layer = new InMemoryChannelLayer({ expiryMs: 1000 })
    await layer.send('later', { type: 'a' }, { delayMs: 5000 })
    await layer.send('later', { type: 'b' }, { delayMs: 5000 })
    vi.advanceTimersByTime(5999)
    expect(await takeNow(layer, 'later')).toEqual({ type: 'a' })
    vi.advanceTimersByTime(1)
    expect(await takeNow(layer, 'later')).toBeUndefined()
    expect(layer.stats().expired).toBe(1)
  })

  it('waits past setTimeout’s 24.8-day limit by re-arming its one timer', async () => {
    const layer = new InMemoryChannelLayer({ expiryMs: 1000 })
    await layer.send('later', { type: 'x' }, { delayMs: MAX_TIMER_DELAY_MS + 1000 })
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS)
    expect(vi.getTimerCount()).toBe(1)
    expect(await takeNow(layer, 'later')).toBeUndefined()
    vi.advanceTimersByTime(1000)
    expect(await takeNow(layer, 'later')).toEqual({ type: 'x' })
  })

  it('flush and close clear the timer and every waiting message', async () => {
    const layer = new InMemoryChannelLayer()
    await layer.send('later', { type: 'x' }, { delayMs: 1000 })
    await layer.flush()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(await takeNow(layer, 'later')).toBeUndefined()
    await layer.send('later', { type: 'y' }, { delayMs: 1000 })
    expect(vi.getTimerCount()).toBe(1)
    await layer.close()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(1000)
    expect(layer.stats()).toMatchObject({ sent: 2, received: 0 })
  })

  it('validates options before anything is scheduled', async () => {
    const layer = new InMemoryChannelLayer()
    for (const options of [5, 'soon', { delayMs: -1 }, { delayMs: 0.5 }, { delayMs: 2 ** 53 }]) {
      const send = layer.send('later', { type: 'x' }, options as unknown as LayerSendOptions)
      await expect(send).rejects.toBeInstanceOf(InvalidOptionError)
    }
    await expect(layer.send('later', { type: 'x' }, { delayMs: -1 })).rejects.toThrow(
      'Expected `delayMs` to be a non-negative integer, got -1',
    )
    expect(vi.getTimerCount()).toBe(0)
  })

  it('refuses a delayed message the layer would refuse now (bad name, bad message)', async () => {
    const layer = new InMemoryChannelLayer({ maxMessageBytes: 64 })
    await expect(layer.send('bad name', { type: 'x' }, { delayMs: 10 })).rejects.toThrow()
    await expect(layer.send('later', { type: 'x', big: 'y'.repeat(100) }, { delayMs: 10 })).rejects.toThrow()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('DelayedMessages', () => {
  it('delivers in (due time, scheduling order) order, whatever the insertion order', () => {
    const delivered: number[] = []
    const delayed = new DelayedMessages<number>((item) => delivered.push(item))
    // A deterministic shuffle of 500 due times with many ties.
    const dueTimes = Array.from({ length: 500 }, (_, i) => T0 + ((i * 7919) % 97))
    dueTimes.forEach((dueAt, i) => {
      delayed.schedule(dueAt, i)
    })
    expect(delayed.size).toBe(500)
    delayed.deliverDue(T0 + 50)
    delayed.deliverDue(T0 + 1000)
    const expected = dueTimes
      .map((dueAt, i) => ({ dueAt, i }))
      .sort((x, y) => x.dueAt - y.dueAt || x.i - y.i)
      .map(({ i }) => i)
    expect(delivered).toEqual(expected)
    expect(delayed.size).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('re-arms its one timer for an earlier item only, and clear() disarms it', () => {
    const delivered: string[] = []
    const delayed = new DelayedMessages<string>((item) => delivered.push(item))
    delayed.schedule(T0 + 1000, 'a')
    delayed.schedule(T0 + 2000, 'b')
    delayed.schedule(T0 + 500, 'c')
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(499)
    expect(delivered).toEqual([])
    vi.advanceTimersByTime(1)
    expect(delivered).toEqual(['c'])
    vi.advanceTimersByTime(500)
    expect(delivered).toEqual(['c', 'a'])
    delayed.clear()
    expect([delayed.size, vi.getTimerCount()]).toEqual([0, 0])
    vi.advanceTimersByTime(5000)
    expect(delivered).toEqual(['c', 'a'])
  })
})
