import type { ScheduleInfo, TaskStore } from '../../tasks/task-store.js'

/** A schedule as the dashboard shows it: its definition and runs, with its message's `type` only (no payload). */
export type DashboardSchedule = Omit<ScheduleInfo, 'message'> & { readonly type: string }

/** The layer's periodic tasks for `api/state`, soonest first, without their payloads. */
export async function dashboardSchedules(store: TaskStore): Promise<DashboardSchedule[]> {
  return (await store.listSchedules()).map(({ message, ...schedule }) => ({ ...schedule, type: message.type }))
}

/**
 * The page's schedules table, as plain browser JavaScript appended to the dashboard's script (its `api`, `byId`,
 * `cell`, `fill` and `setStatus` are in scope there): filled by `textContent` only, like every table of the page.
 * Rows are kept by schedule id and updated in place, so a poll never swaps a Remove button out under the pointer.
 * Remove asks for confirmation, then posts to `api/schedules/remove` (dashboard-task-api.ts).
 */
export const DASHBOARD_SCHEDULES_SCRIPT = String.raw`
const SCHEDULE_FIELDS = ['id', 'channel', 'type', 'when', 'next-run', 'last-run']

function scheduleRow(id) {
  const tr = document.createElement('tr')
  tr.dataset.schedule = id
  for (const field of SCHEDULE_FIELDS) tr.append(cell('', { field: field }))
  const remove = document.createElement('button')
  remove.type = 'button'
  remove.textContent = 'Remove'
  remove.dataset.action = 'remove-schedule'
  remove.dataset.id = id
  const actions = document.createElement('td')
  actions.append(remove)
  tr.append(actions)
  return tr
}

function renderSchedules(schedules) {
  const time = (ms) => (ms === undefined ? '-' : new Date(ms).toLocaleString())
  const body = byId('schedules').tBodies[0]
  const kept = new Map([...body.rows].filter((tr) => tr.dataset.schedule !== undefined).map((tr) => [tr.dataset.schedule, tr]))
  const rows = schedules.map((schedule) => {
    const tr = kept.get(schedule.id) || scheduleRow(schedule.id)
    const text = {
      id: schedule.id,
      channel: schedule.channel,
      type: schedule.type,
      when: schedule.everyMs === undefined ? schedule.cron + ' (' + schedule.timezone + ')' : 'every ' + schedule.everyMs / 1000 + ' s',
      'next-run': time(schedule.nextRunMs),
      'last-run': time(schedule.lastRunMs),
    }
    for (const td of tr.querySelectorAll('td[data-field]')) td.textContent = text[td.dataset.field]
    return tr
  })
  const unchanged = rows.length === body.rows.length && rows.every((tr, i) => body.rows[i] === tr)
  if (!unchanged) fill('schedules', rows, 7, 'No schedules.')
}

byId('schedules').addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('button[data-action="remove-schedule"]') : null
  if (target === null) return
  const id = target.dataset.id
  if (!confirm('Remove schedule ' + id + '? Workers stop firing it; this cannot be undone.')) return
  target.disabled = true
  api('schedules/remove', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: id }),
  })
    .then(() => {
      setStatus('Removed schedule ' + id + '.', 'ok')
      const tr = target.closest('tr')
      if (tr !== null) tr.remove()
      if (byId('schedules').tBodies[0].rows.length === 0) fill('schedules', [], 7, 'No schedules.')
    })
    .catch((error) => setStatus('Could not remove schedule ' + id + ': ' + error.message, 'error'))
    .finally(() => (target.disabled = false))
})
`
