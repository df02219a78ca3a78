/** How `switchyard inspect` prints a layer snapshot: one aligned table per section. */
import type { LayerSnapshot, ServerSnapshot, WorkerSnapshot } from '../layers/snapshot.js'
import type { ScheduleInfo } from '../tasks/task-store.js'
import { scheduleRows } from './schedule-format.js'
import { formatTable, oneLine } from './table.js'

/**
 * The snapshot as five titled sections (channels, groups with their per-process counts, workers, servers, dead
 * letters per channel), and a sixth when `schedules` is given (the task store's periodic tasks, which are not part
 * of a snapshot), each an aligned table or `(none)`. Names come from Redis, so they are made terminal-safe.
 *
 * @example
 * ```ts
 * formatSnapshot(await layer.inspect())
 * // Channels
 * // CHANNEL  BACKLOG  IN FLIGHT  DELAYED  DEAD LETTERS
 * // emails   12       2          1        0
 * // ...
 * ```
 */
export function formatSnapshot(snapshot: LayerSnapshot, schedules?: readonly ScheduleInfo[]): string {
  const sections = [
    section('Channels', channelRows(snapshot)),
    section('Groups', groupRows(snapshot)),
    section('Workers', workerRows(snapshot.workers)),
    section('Servers', serverRows(snapshot.servers, snapshot.takenAt)),
    section('Dead letters', deadLetterRows(snapshot)),
    ...(schedules === undefined ? [] : [section('Schedules', scheduleRows(schedules))]),
  ]
  const note = snapshot.truncated === true ? 'Lists were cut short at --max-channels / --max-groups.\n' : ''
  return sections.join('\n') + note
}

function section(title: string, rows: readonly (readonly string[])[]): string {
  return `${title}\n${rows.length <= 1 ? '(none)\n' : formatTable(rows)}`
}

function channelRows({ channels }: LayerSnapshot): string[][] {
  return [
    ['CHANNEL', 'BACKLOG', 'IN FLIGHT', 'DELAYED', 'DEAD LETTERS'],
    ...channels.map((channel) => [
      oneLine(channel.name),
      String(channel.backlog),
      String(channel.inFlight),
      String(channel.delayed),
      String(channel.deadLetters),
    ]),
  ]
}

/** One line per owning process; the group's name and total only on its first. */
function groupRows({ groups }: LayerSnapshot): string[][] {
  const rows = [['GROUP', 'MEMBERS', 'PROCESS', 'PROCESS MEMBERS']]
  for (const group of groups) {
    if (group.byProcess.length === 0) rows.push([oneLine(group.name), '0', '', ''])
    group.byProcess.forEach(({ process, members }, index) => {
      rows.push([
        index === 0 ? oneLine(group.name) : '',
        index === 0 ? String(group.members) : '',
        oneLine(process),
        String(members),
      ])
    })
  }
  return rows
}

function workerRows(workers: readonly WorkerSnapshot[]): string[][] {
  return [
    [
      'HOST',
      'PID',
      'CHANNEL',
      'ALIVE',
      'HEARTBEAT',
      'CONCURRENCY',
      'IN FLIGHT',
      'PROCESSED',
      'FAILED',
      'RETRIED',
      'DEAD',
    ],
    ...workers.map((worker) => [
      oneLine(worker.host),
      String(worker.pid),
      oneLine(worker.channel),
      worker.alive ? 'yes' : 'no',
      `${formatAge(worker.heartbeatAgeMs)} ago`,
      String(worker.concurrency),
      String(worker.inFlight),
      String(worker.processed),
      String(worker.failed),
      String(worker.retried),
      String(worker.dead),
    ]),
  ]
}

/** One line per web process (a `switchyard` plugin) that reported to the layer, as the dashboard lists them. */
function serverRows(servers: readonly ServerSnapshot[], takenAt: number): string[][] {
  return [
    [
      'HOST',
      'PID',
      'PORT',
      'ALIVE',
      'HEARTBEAT',
      'UP',
      'CONNECTIONS',
      'ACCEPTED',
      'REJECTED',
      'CLOSED SLOW',
      'DROPPED OUTBOUND',
    ],
    ...servers.map((server) => [
      oneLine(server.host),
      String(server.pid),
      oneLine(portOf(server)),
      server.alive ? 'yes' : 'no',
      `${formatAge(server.heartbeatAgeMs)} ago`,
      formatAge(Math.max(0, takenAt - server.startedAt)),
      String(server.connections),
      String(server.accepted),
      String(server.rejected),
      String(server.closedSlow),
      String(server.droppedOutbound),
    ]),
  ]
}

/** The port from a server id, `<host>:<pid>:<port or 'unlistened'>` (ServerReport), or `-` when it has none. */
function portOf({ id, host, pid }: ServerSnapshot): string {
  const prefix = `${host}:${String(pid)}:`
  const port = id.startsWith(prefix) ? id.slice(prefix.length) : ''
  return /^\d+$/.test(port) ? port : '-'
}

function deadLetterRows({ channels }: LayerSnapshot): string[][] {
  return [
    ['CHANNEL', 'DEAD LETTERS'],
    ...channels
      .filter((channel) => channel.deadLetters > 0)
      .map((channel) => [oneLine(channel.name), String(channel.deadLetters)]),
  ]
}

/** A duration for people: `850ms`, `12s`, `3m`, `2h`. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Math.floor(ms / 1_000)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m`
  return `${Math.floor(ms / 3_600_000)}h`
}
