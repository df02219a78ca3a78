import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { BacklogMonitor } from '../../src/monitoring/backlog-monitor.js'
import { captureLogs } from '../unit/routing/fakes.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')

let layer: InMemoryChannelLayer

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
  layer = new InMemoryChannelLayer({ capacity: 1_000, expiryMs: 3_600_000 })
})

afterEach(async () => {
  vi.useRealTimers()
  await layer.close()
})

async function fill(channel: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await layer.send(channel, { type: 'job.run', i })
}

function warnings(lines: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((line) => line.msg === 'channel backlog over threshold')
}

describe('BacklogMonitor', () => {
  it('returns the channels over their threshold, the first matching glob applying', async () => {
    const { logger } = captureLogs()
    await fill('jobs.email', 6)
    await fill('jobs.sms', 2)
    await fill('emails', 4)
    await fill('other', 50)
    const monitor = new BacklogMonitor({ layer, thresholds: { 'jobs.e*': 5, 'jobs.*': 1, emails: 4 }, logger })
    expect(await monitor.check()).toEqual([
      { channel: 'jobs.email', backlog: 6, threshold: 5, pattern: 'jobs.e*' },
      { channel: 'jobs.sms', backlog: 2, threshold: 1, pattern: 'jobs.*' },
    ])
    expect(monitor.alerts).toHaveLength(2)
  })

  it('warns at most once per channel per interval while the backlog stays high', async () => {
    const { logger, lines } = captureLogs()
    await fill('emails', 3)
    const monitor = new BacklogMonitor({ layer, thresholds: { emails: 2 }, intervalMs: 10_000, logger })
    monitor.start()
    // Checks run on the interval and by hand: still one line per interval.
    await monitor.check()
    await monitor.check()
    expect(warnings(lines)).toEqual([
      expect.objectContaining({ level: 40, channel: 'emails', backlog: 3, threshold: 2 }),
    ])
    await vi.advanceTimersByTimeAsync(9_999)
    expect(warnings(lines)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(warnings(lines)).toHaveLength(2)
    await fill('emails', 1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(warnings(lines).at(-1)).toMatchObject({ channel: 'emails', backlog: 4 })
    expect(warnings(lines)).toHaveLength(3)
    monitor.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(warnings(lines)).toHaveLength(3)
  })

  it('stays quiet under the threshold and once the backlog drains', async () => {
    const { logger, lines } = captureLogs()
    await fill('emails', 2)
    const monitor = new BacklogMonitor({ layer, thresholds: { emails: 2 }, intervalMs: 1_000, logger })
    monitor.start()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(warnings(lines)).toEqual([])
    expect(monitor.alerts).toEqual([])
    monitor.stop()
  })

  it('logs a failed check and keeps going', async () => {
    const { logger, lines } = captureLogs()
    const monitor = new BacklogMonitor({ layer, thresholds: { emails: 0 }, intervalMs: 1_000, logger })
    monitor.start()
    await layer.close()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(lines.filter((line) => line.msg === 'backlog check failed')).toHaveLength(1)
    monitor.stop()
  })

  it('rejects bad options, naming them', () => {
    expect(() => new BacklogMonitor({ layer, thresholds: { emails: -1 } })).toThrow(/thresholds\.emails/)
    expect(() => new BacklogMonitor({ layer, thresholds: {}, intervalMs: 0 })).toThrow(/intervalMs/)
  })
})
