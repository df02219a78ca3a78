/** How the CLI prints periodic tasks: `switchyard schedules list` and the Schedules section of `switchyard inspect`. */
import type { ScheduleInfo } from '../tasks/task-store.js'
import { formatTable, oneLine } from './table.js'

/** A schedule without its message, only the message's `type`: listings never print payloads. */
export type ScheduleSummary = Omit<ScheduleInfo, 'message'> & { readonly type: string }

export function summarizeSchedule({ message, ...rest }: ScheduleInfo): ScheduleSummary {
  return { ...rest, type: message.type }
}

/**
 * The header and one row per schedule: id, channel, message type, timing, catch-up, next run, last run (ISO times).
 *
 * @example
 * ```ts
 * formatTable(scheduleRows(await layer.tasks.listSchedules()))
 * // ID    CHANNEL  TYPE     WHEN            CATCH-UP  NEXT RUN                  LAST RUN
 * // beat  jobs     job.run  every 60000 ms  one       2026-01-05T08:01:00.000Z  -
 * ```
 */
export function scheduleRows(schedules: readonly ScheduleInfo[]): string[][] {
  const iso = (ms: number | undefined): string =>
    ms === undefined ? '-' : ms >= 8.64e15 ? 'never' : new Date(ms).toISOString()
  const timing = (s: ScheduleInfo): string =>
    s.everyMs === undefined ? `cron ${s.cron ?? ''} (${s.timezone ?? 'UTC'})` : `every ${s.everyMs} ms`
  return [
    ['ID', 'CHANNEL', 'TYPE', 'WHEN', 'CATCH-UP', 'NEXT RUN', 'LAST RUN'],
    ...schedules.map((s) => [
      s.id,
      s.channel,
      oneLine(s.message.type),
      oneLine(timing(s)),
      s.catchUp,
      iso(s.nextRunMs),
      iso(s.lastRunMs),
    ]),
  ]
}

/** The schedules as an aligned table (`scheduleRows`). */
export function formatScheduleTable(schedules: readonly ScheduleInfo[]): string {
  return formatTable(scheduleRows(schedules))
}
