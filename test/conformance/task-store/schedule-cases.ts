import { describe, expect } from 'vitest'

import { InvalidMessageError, InvalidOptionError } from '../../../src/errors.js'
import type { TaskStoreTestContext } from './context.js'

const JOB = Object.freeze({ type: 'job.run', report: 'daily' })

/** The hour and minute of `ms` in `timeZone`, as `HH:MM`. */
function wallClock(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(ms),
  )
}

/** ScheduleStore (issue 17): definitions, next runs, one claim per tick, catch-up after downtime. */
export function scheduleCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('schedules', () => {
    it('lists a schedule with its next run, and gives each tick to one claim only', async () => {
      const layer = await make()
      const start = clock.now()
      const created = await layer.tasks.schedule('tick', { channel: 'jobs', message: JOB, everyMs: 5000 })
      expect(created).toEqual({
        id: 'tick',
        channel: 'jobs',
        message: JOB,
        everyMs: 5000,
        catchUp: 'one',
        nextRunMs: start + 5000,
      })
      expect(await layer.tasks.listSchedules()).toEqual([created])
      expect(await layer.tasks.nextScheduleRunMs()).toBe(start + 5000)
      expect(await layer.tasks.claimDueSchedules()).toEqual([])
      clock.advance(5000)
      expect(await layer.tasks.claimDueSchedules()).toEqual([
        { id: 'tick', channel: 'jobs', message: JOB, tickMs: start + 5000 },
      ])
      expect(await layer.tasks.claimDueSchedules()).toEqual([])
      expect(await layer.tasks.listSchedules()).toEqual([
        { ...created, nextRunMs: start + 10_000, lastRunMs: start + 5000 },
      ])
    })

    it("fires once for many missed ticks with catchUp 'one', then keeps the grid", async () => {
      const layer = await make()
      const start = clock.now()
      await layer.tasks.schedule('tick', { channel: 'jobs', message: JOB, everyMs: 1000 })
      clock.advance(10_500)
      const ticks = await layer.tasks.claimDueSchedules()
      expect(ticks.map((tick) => tick.tickMs)).toEqual([start + 10_000])
      expect(await layer.tasks.claimDueSchedules()).toEqual([])
      expect(await layer.tasks.nextScheduleRunMs()).toBe(start + 11_000)
    })

    it("skips missed ticks with catchUp 'none' and fires the next one on time", async () => {
      const layer = await make()
      const start = clock.now()
      await layer.tasks.schedule('tick', { channel: 'jobs', message: JOB, everyMs: 60_000, catchUp: 'none' })
      clock.advance(60_000 * 3 + 30_000)
      expect(await layer.tasks.claimDueSchedules()).toEqual([])
      expect(await layer.tasks.nextScheduleRunMs()).toBe(start + 240_000)
      clock.advance(30_000)
      const ticks = await layer.tasks.claimDueSchedules()
      expect(ticks.map((tick) => tick.tickMs)).toEqual([start + 240_000])
      const [listed] = await layer.tasks.listSchedules()
      expect(listed?.lastRunMs).toBe(start + 240_000)
    })

    it('runs a cron expression in its time zone', async () => {
      const layer = await make()
      const { nextRunMs } = await layer.tasks.schedule('nightly', {
        channel: 'reports',
        message: JOB,
        cron: '30 3 * * *',
        timezone: 'Asia/Kolkata',
      })
      expect(nextRunMs).toBeGreaterThan(clock.now())
      expect(nextRunMs - clock.now()).toBeLessThanOrEqual(86_400_000)
      expect(wallClock(nextRunMs, 'Asia/Kolkata')).toBe('03:30')
      clock.advance(nextRunMs - clock.now())
      const ticks = await layer.tasks.claimDueSchedules()
      expect(ticks.map((tick) => tick.tickMs)).toEqual([nextRunMs])
      expect(await layer.tasks.nextScheduleRunMs()).toBe(nextRunMs + 86_400_000)
    })

    it('unschedules, and a redefinition starts from now and keeps the last run', async () => {
      const layer = await make()
      const start = clock.now()
      await layer.tasks.schedule('a', { channel: 'jobs', message: JOB, everyMs: 1000 })
      await layer.tasks.schedule('b', { channel: 'jobs', message: JOB, everyMs: 2000 })
      clock.advance(1000)
      expect((await layer.tasks.claimDueSchedules()).map((tick) => tick.id)).toEqual(['a'])
      const redefined = await layer.tasks.schedule('a', { channel: 'other', message: JOB, everyMs: 9000 })
      expect(redefined.nextRunMs).toBe(start + 10_000)
      expect((await layer.tasks.listSchedules()).map((s) => [s.id, s.channel, s.lastRunMs])).toEqual([
        ['b', 'jobs', undefined],
        ['a', 'other', start + 1000],
      ])
      expect(await layer.tasks.unschedule('b')).toBe(true)
      expect(await layer.tasks.unschedule('b')).toBe(false)
      clock.advance(5000)
      expect(await layer.tasks.claimDueSchedules()).toEqual([])
      expect((await layer.tasks.listSchedules()).map((s) => s.id)).toEqual(['a'])
    })

    it('refuses invalid definitions with coded errors, storing nothing', async () => {
      const layer = await make()
      const base = { channel: 'jobs', message: JOB }
      const invalid: [unknown, unknown, string][] = [
        ['tick', { ...base }, 'everyMs'],
        ['tick', { ...base, everyMs: 1000, cron: '* * * * *' }, 'everyMs'],
        ['tick', { ...base, everyMs: 999 }, 'everyMs'],
        ['tick', { ...base, everyMs: 1000.5 }, 'everyMs'],
        ['tick', { ...base, everyMs: 1000, timezone: 'UTC' }, 'timezone'],
        ['tick', { ...base, cron: 'every day' }, 'cron'],
        ['tick', { ...base, cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone'],
        ['tick', { ...base, everyMs: 1000, catchUp: 'all' }, 'catchUp'],
        ['has space', { ...base, everyMs: 1000 }, 'id'],
        ['tick', { ...base, everyMs: 1000, message: { type: 'x.y', blob: Buffer.from('x') } }, 'message'],
      ]
      for (const [id, options, option] of invalid) {
        const call = layer.tasks.schedule(id as string, options as never)
        await expect(call, JSON.stringify(options)).rejects.toThrow(InvalidOptionError)
        await expect(call).rejects.toMatchObject({ code: 'SWY_INVALID_OPTION', option })
      }
      await expect(
        layer.tasks.schedule('tick', { channel: 'jobs', message: {} as never, everyMs: 1000 }),
      ).rejects.toThrow(InvalidMessageError)
      await expect(layer.tasks.schedule('tick', { channel: 'bad name', message: JOB, everyMs: 1000 })).rejects.toThrow()
      expect(await layer.tasks.listSchedules()).toEqual([])
    })
  })
}
