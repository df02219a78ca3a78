import type { ScheduleInfo, TaskStore } from '../../tasks/task-store.js'

/** A schedule as the dashboard shows it: its definition and runs, with its message's `type` only (no payload). */
export type DashboardSchedule = Omit<ScheduleInfo, 'message'> & { readonly type: string }

/** The layer's periodic tasks for `api/state`, soonest first, without their payloads. */
export async function dashboardSchedules(store: TaskStore): Promise<DashboardSchedule[]> {
  return (await store.listSchedules()).map(({ message, ...schedule }) => ({ ...schedule, type: message.type }))
}

/**
 * The page's schedules table, as plain browser JavaScript appended to the dashboard's script (its `cell`, `fill`
 * and `refresh` are in scope there): filled by `textContent` only, like every table of the page.
 */
export const DASHBOARD_SCHEDULES_SCRIPT = String.raw`
function renderSchedules(schedules) {
  const time = (ms) => (ms === undefined ? '-' : new Date(ms).toLocaleString())
  const rows = schedules.map((schedule) => {
    const tr = document.createElement('tr')
    tr.dataset.schedule = schedule.id
    tr.append(
      cell(schedule.id, { field: 'id' }),
      cell(schedule.channel, { field: 'channel' }),
      cell(schedule.type, { field: 'type' }),
      cell(schedule.everyMs === undefined ? schedule.cron + ' (' + schedule.timezone + ')' : 'every ' + schedule.everyMs / 1000 + ' s', { field: 'when' }),
      cell(time(schedule.nextRunMs), { field: 'next-run' }),
      cell(time(schedule.lastRunMs), { field: 'last-run' }),
    )
    return tr
  })
  fill('schedules', rows, 6, 'No schedules.')
}
`
