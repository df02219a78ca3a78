// Periodic tasks' pure parts (issue 17): tick computation, the claim guard, and the worker's schedule loop on the
// memory layer under fake timers. Both layers' behaviour is in test/conformance/task-store/schedule-cases.ts.
import { afterEach, describe, expect, it, vi } from 'vitest'

import { InMemoryChannelLayer } from '../../../src/layers/memory/memory-layer.js'
import { MemorySchedules } from '../../../src/layers/memory/memory-schedules.js'
import { claimTick, ON_TIME_MS } from '../../../src/tasks/schedules/next-run.js'
import { resolveScheduleOptions } from '../../../src/tasks/schedules/schedule-options.js'
import { Schedules, type StoredSchedule } from '../../../src/tasks/schedules/schedule-store.js'
import { createLogger } from '../../../src/logger.js'
import { startScheduleLoop } from '../../../src/worker/schedule-loop.js'
import { fakeLogger } from './helpers.js'

const T0 = Date.parse('2026-03-28T12:00:00.000Z')
const message = { type: 'job.run' }

afterEach(() => {
  vi.useRealTimers()
})

describe('claimTick', () => {
  const every = resolveScheduleOptions('t', { channel: 'jobs', message, everyMs: 1000 })

  it('fires a due tick and moves to the next one on the grid', () => {
    expect(claimTick(every, T0, T0 + 3)).toEqual({ fireMs: T0, nextRunMs: T0 + 1000 })
  })

  it("fires the latest of many missed ticks once with catchUp 'one'", () => {
    expect(claimTick(every, T0, T0 + 7_250)).toEqual({ fireMs: T0 + 7000, nextRunMs: T0 + 8000 })
  })

  it("fires only on time with catchUp 'none'", () => {
    const none = resolveScheduleOptions('t', { channel: 'jobs', message, everyMs: 60_000, catchUp: 'none' })
    expect(claimTick(none, T0, T0 + ON_TIME_MS)).toEqual({ fireMs: T0, nextRunMs: T0 + 60_000 })
    expect(claimTick(none, T0, T0 + ON_TIME_MS + 1)).toEqual({ fireMs: undefined, nextRunMs: T0 + 60_000 })
  })

  it('walks missed cron ticks across a daylight saving change (Europe/Paris, 29 March 2026)', () => {
    const cron = resolveScheduleOptions('c', { channel: 'jobs', message, cron: '0 3 * * *', timezone: 'Europe/Paris' })
    const march28 = Date.parse('2026-03-28T02:00:00.000Z') // 03:00 CET
    const march30 = Date.parse('2026-03-30T01:00:00.000Z') // 03:00 CEST
    const claim = claimTick(cron, march28, march30 + 60_000)
    expect(claim).toEqual({ fireMs: march30, nextRunMs: march30 + 86_400_000 })
  })
})

describe('Schedules.claimDueSchedules', () => {
  it('skips a schedule read after another worker advanced it (the index said due, the hash says later)', async () => {
    const records = new MemorySchedules()
    const spec = resolveScheduleOptions('t', { channel: 'jobs', message, everyMs: 1000 })
    await records.put('t', spec, T0 + 1000)
    const stale: StoredSchedule = { id: 't', spec, nextRunMs: T0 + 1000, lastRunMs: T0 }
    vi.spyOn(records, 'due').mockResolvedValue([stale])
    const advance = vi.spyOn(records, 'advance')
    expect(await new Schedules(records, () => undefined).claimDueSchedules(T0 + 5)).toEqual([])
    expect(advance).not.toHaveBeenCalled()
  })
})

describe('startScheduleLoop', () => {
  it('sends each tick once with its idempotency key, sleeping until the next run', async () => {
    vi.useFakeTimers({ now: T0 })
    const layer = new InMemoryChannelLayer()
    const sent: unknown[] = []
    vi.spyOn(layer, 'send').mockImplementation(async (_channel, sentMessage) => {
      sent.push(sentMessage)
    })
    await layer.tasks.schedule('beat', { channel: 'jobs', message, everyMs: 1000 })
    const loop = startScheduleLoop({
      layer,
      schedules: layer.tasks,
      log: createLogger({ level: 'silent', format: 'json' }),
    })
    await vi.advanceTimersByTimeAsync(3_500)
    expect(sent).toEqual([1, 2, 3].map((n) => ({ ...message, idempotencyKey: `schedule:beat:${T0 + n * 1000}` })))
    await loop.stop()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(sent).toHaveLength(3)
    await layer.close()
  })

  it('ends by itself once the layer is closed, instead of warning on every poll', async () => {
    vi.useFakeTimers({ now: T0 })
    const layer = new InMemoryChannelLayer()
    await layer.tasks.schedule('beat', { channel: 'jobs', message, everyMs: 1000 })
    const { logger, warn } = fakeLogger()
    const loop = startScheduleLoop({ layer, schedules: layer.tasks, log: logger })
    await vi.advanceTimersByTimeAsync(1_500)
    await layer.close()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(warn).not.toHaveBeenCalled()
    expect(logger.info).toHaveBeenCalledTimes(1)
    expect(logger.info).toHaveBeenCalledWith({}, 'layer closed; schedules no longer fired here')
    await loop.stop()
  })
})
