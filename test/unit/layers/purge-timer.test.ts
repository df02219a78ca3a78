import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { ExpiredEntry } from '../../../src/layers/local-channels.js'
import { LocalChannels } from '../../../src/layers/local-channels.js'
import { PurgeTimer } from '../../../src/layers/purge-timer.js'

/** LocalChannels purged by a PurgeTimer, wired as the Redis layer wires them. */
function purgedChannels(intervalMs: number): { local: LocalChannels; purges: PurgeTimer; expired: ExpiredEntry[] } {
  const expired: ExpiredEntry[] = []
  const purges: PurgeTimer = new PurgeTimer(
    intervalMs,
    () => {
      local.purgeExpired()
    },
    () => local.queued > 0,
  )
  const local: LocalChannels = new LocalChannels(
    () => 10,
    (entry) => expired.push(entry),
    () => {
      purges.arm()
    },
  )
  return { local, purges, expired }
}

describe('PurgeTimer (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('holds no timer while nothing is queued, and purges a queued message within one interval of its expiry', () => {
    const { local, purges, expired } = purgedChannels(1_000)
    expect(purges.timers).toBe(0)
    // Handed over to a waiting listener: nothing queued, nothing to purge.
    local.takeOrListen('c!1', { channelMessage: () => undefined, channelClosed: () => undefined })
    local.offer('c!1', { type: 'handed.over' }, 60_000)
    expect(purges.timers).toBe(0)
    local.offer('c!2', { type: 'left.alone' }, 2_500)
    expect(purges.timers).toBe(1)
    vi.advanceTimersByTime(2_999)
    expect(expired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(expired.map((entry) => entry.message.type)).toEqual(['left.alone'])
    // Nothing left: the timer is not re-armed.
    expect(purges.timers).toBe(0)
    vi.advanceTimersByTime(60_000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps purging while anything is queued, arms once however many arrive, and stops for good', () => {
    const { local, purges, expired } = purgedChannels(100)
    for (let i = 0; i < 5; i++) local.offer(`c!${i}`, { type: `m.${i}` }, 150 + i * 100)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(700)
    expect(expired).toHaveLength(5)
    expect(purges.timers).toBe(0)
    local.offer('c!9', { type: 'late.one' }, 1_000_000)
    expect(purges.timers).toBe(1)
    purges.stop()
    expect(vi.getTimerCount()).toBe(0)
    purges.arm()
    expect(purges.timers).toBe(0)
  })

  it('is re-armed after the queue emptied and filled again', () => {
    const { local, purges, expired } = purgedChannels(100)
    local.offer('c!1', { type: 'first.one' }, 1_000_000)
    expect(local.take('c!1')).toEqual({ type: 'first.one' })
    vi.advanceTimersByTime(100)
    expect(purges.timers).toBe(0)
    local.offer('c!1', { type: 'second.one' }, 250)
    vi.advanceTimersByTime(300)
    expect(expired.map((entry) => entry.message.type)).toEqual(['second.one'])
  })
})
