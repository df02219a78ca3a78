/** The tables, the JSON file and the SVG chart of a run. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import type { IdleResult } from '../background/run-idle.js'
import type { CommandCalls } from './redis-commands.js'
import { renderMarkdown } from './markdown.js'
import type {
  BackgroundRow,
  BenchResult,
  BenchResults,
  HistoryFanoutRow,
  HistoryMemoryResult,
  MemoryResult,
  PresenceResult,
  RecoveryResult,
  RedisCostResult,
} from './result.js'
import type { TargetCheck } from './targets.js'

interface Column<T> {
  readonly title: string
  readonly value: (row: T) => string
  /** Text columns are padded on the right, numbers on the left. */
  readonly text?: boolean
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const kib = (bytes: number | null): string => (bytes === null ? '-' : (bytes / 1024).toFixed(2))

const THROUGHPUT: readonly Column<BenchResult>[] = [
  { title: 'workload', value: (r) => r.workload, text: true },
  { title: 'size', value: (r) => r.params, text: true },
  { title: 'system', value: (r) => r.label, text: true },
  { title: 'per s', value: (r) => `${int(r.perSecond)} ${r.unit}` },
  { title: 'p50 ms', value: (r) => r.p50Ms.toFixed(2) },
  { title: 'p99 ms', value: (r) => r.p99Ms.toFixed(2) },
  { title: 'lost', value: (r) => String(r.lost) },
  { title: 'dup', value: (r) => String(r.duplicated) },
  { title: 'server CPU ms', value: (r) => r.serverCpuMs.toFixed(0) },
  { title: 'CPU µs/unit', value: (r) => r.cpuUsPerUnit.toFixed(1) },
  { title: 'redis CPU ms', value: (r) => (r.redisCpuMs === null ? '-' : r.redisCpuMs.toFixed(0)) },
  { title: 'publisher cmds/msg', value: (r) => r.publisherCommandsPerMessage?.toFixed(2) ?? '-' },
]

const MEMORY: readonly Column<MemoryResult>[] = [
  { title: 'system', value: (r) => r.label, text: true },
  { title: 'idle connections', value: (r) => int(r.connections) },
  { title: 'heap KiB/conn', value: (r) => kib(r.heapBytesPerConnection) },
  { title: 'RSS KiB/conn', value: (r) => kib(r.rssBytesPerConnection) },
]

const REDIS_COST: readonly Column<RedisCostResult>[] = [
  { title: 'members (one process)', value: (r) => int(r.members) },
  { title: 'round trips', value: (r) => String(r.roundTrips) },
  { title: 'bytes sent', value: (r) => String(r.bytesSent) },
  { title: 'script µs', value: (r) => String(r.scriptUsec) },
  { title: 'copies queued', value: (r) => String(r.copies) },
]

const BACKGROUND: readonly Column<BackgroundRow>[] = [
  { title: 'system', value: (r) => (r.system === 'switchyard' ? 'Switchyard RetryingConsumer' : 'BullMQ'), text: true },
  { title: 'workers', value: (r) => String(r.workers) },
  { title: 'concurrency', value: (r) => String(r.concurrency) },
  { title: 'failing once', value: (r) => `${r.failRate * 100} %` },
  { title: 'messages', value: (r) => int(r.messages) },
  { title: 'attempts', value: (r) => int(r.attempts) },
  { title: 'msgs/s', value: (r) => int(r.messagesPerSecond) },
  { title: 'worker CPU µs/msg', value: (r) => r.workerCpuUsPerMessage.toFixed(1) },
  { title: 'lost', value: (r) => String(r.lost) },
  { title: 'checks', value: (r) => (r.ok ? 'ok' : 'FAILED') },
]

const IDLE_WORKERS: readonly Column<IdleResult>[] = [
  { title: 'idle channels', value: (r) => int(r.channels) },
  { title: 'processes', value: (r) => String(r.processes) },
  { title: 'window s', value: (r) => (r.windowMs / 1_000).toFixed(1) },
  { title: 'commands', value: (r) => int(r.commands) },
  { title: 'commands/s', value: (r) => r.commandsPerSecond.toFixed(1) },
  { title: 'per channel/s', value: (r) => r.commandsPerChannelPerSecond.toFixed(2) },
  { title: 'run inside scripts/s', value: (r) => r.scriptCommandsPerSecond.toFixed(1) },
]

/** One command of one idle-workers run. */
interface IdleCommandRow {
  readonly run: IdleResult
  readonly entry: CommandCalls
}

const IDLE_COMMANDS: readonly Column<IdleCommandRow>[] = [
  { title: 'command', value: (r) => r.entry.command, text: true },
  { title: 'calls', value: (r) => int(r.entry.calls) },
  { title: 'per s', value: (r) => ((r.entry.calls * 1_000) / r.run.windowMs).toFixed(1) },
  { title: 'per channel/s', value: (r) => ((r.entry.calls * 1_000) / r.run.windowMs / r.run.channels).toFixed(3) },
  { title: 'share', value: (r) => `${((r.entry.calls / r.run.commands) * 100).toFixed(1)} %` },
]

const HISTORY_FANOUT: readonly Column<HistoryFanoutRow>[] = [
  { title: 'size', value: (r) => r.params, text: true },
  { title: 'history', value: (r) => `${r.historySize} msgs`, text: true },
  { title: 'per s off / on', value: (r) => `${int(r.off.perSecond)} / ${int(r.on.perSecond)}` },
  { title: 'p50 ms off / on', value: (r) => `${r.off.p50Ms.toFixed(1)} / ${r.on.p50Ms.toFixed(1)}` },
  { title: 'p99 ms off / on', value: (r) => `${r.off.p99Ms.toFixed(1)} / ${r.on.p99Ms.toFixed(1)}` },
  {
    title: 'CPU µs/delivery off / on',
    value: (r) => `${r.off.cpuUsPerUnit.toFixed(2)} / ${r.on.cpuUsPerUnit.toFixed(2)}`,
  },
  { title: 'CPU on/off', value: (r) => `${r.cpuRatio.toFixed(2)}x` },
  { title: 'redis CPU ms off / on', value: (r) => `${redisMs(r.off)} / ${redisMs(r.on)}` },
  { title: 'publish ms off / on', value: (r) => `${optional(r.off.publishMs, 0)} / ${optional(r.on.publishMs, 0)}` },
  {
    title: 'writes/delivery off / on',
    value: (r) => `${optional(r.off.writeSyscallsPerUnit, 3)} / ${optional(r.on.writeSyscallsPerUnit, 3)}`,
  },
  { title: 'lost+dup off / on', value: (r) => `${r.off.lost + r.off.duplicated} / ${r.on.lost + r.on.duplicated}` },
]

function optional(value: number | undefined, digits: number): string {
  return value === undefined ? '-' : value.toFixed(digits)
}

function redisMs(row: BenchResult): string {
  return row.redisCpuMs === null ? '-' : row.redisCpuMs.toFixed(0)
}

const HISTORY_MEMORY: readonly Column<HistoryMemoryResult>[] = [
  { title: 'groups', value: (r) => int(r.groups) },
  { title: 'messages each', value: (r) => String(r.messagesPerGroup) },
  { title: 'text B', value: (r) => String(r.textBytes) },
  { title: 'stored message B', value: (r) => String(r.storedMessageBytes) },
  { title: 'used_memory per group KiB', value: (r) => kib(r.usedMemoryBytesPerGroup) },
  {
    title: 'one group by key (MEMORY USAGE)',
    value: (r) => r.keys.map((k) => `${k.role} ${k.type} ${k.encoding} ${int(k.bytes)} B`).join('; '),
    text: true,
  },
]

const RECOVERY: readonly Column<RecoveryResult>[] = [
  { title: 'missed messages', value: (r) => String(r.messages) },
  { title: 'text B', value: (r) => String(r.textBytes) },
  { title: 'recoveries', value: (r) => String(r.recoveries) },
  { title: 'to last message p50 / p99 ms', value: (r) => `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}` },
  { title: 'groupAdd p50 / p99 ms', value: (r) => `${r.groupAddP50Ms.toFixed(2)} / ${r.groupAddP99Ms.toFixed(2)}` },
]

const PRESENCE: readonly Column<PresenceResult>[] = [
  { title: 'members', value: (r) => int(r.members) },
  { title: 'info B', value: (r) => String(r.infoBytes) },
  { title: 'lists', value: (r) => String(r.lists) },
  { title: 'list p50 / p99 ms', value: (r) => `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}` },
  { title: 'script in Redis p50 / p99 ms', value: (r) => `${r.scriptP50Ms.toFixed(2)} / ${r.scriptP99Ms.toFixed(2)}` },
  { title: 'joins/s', value: (r) => int(r.joinsPerSecond) },
  { title: 'used_memory per member B', value: (r) => int(r.usedMemoryBytesPerMember) },
  {
    title: 'keys (MEMORY USAGE)',
    value: (r) => r.keys.map((k) => `${k.role} ${k.type} ${k.encoding} ${int(k.bytes)} B`).join('; '),
    text: true,
  },
]

const TARGETS: readonly Column<TargetCheck>[] = [
  { title: 'target', value: (r) => r.target, text: true },
  { title: 'measured', value: (r) => r.measured, text: true },
  { title: 'met', value: (r) => (r.met ? 'yes' : 'NO'), text: true },
]

/** A plain-text table, columns padded to their widest cell. */
function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [columns.map((c) => c.title), ...rows.map((r) => columns.map((c) => c.value(r)))]
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)))
  const line = (cellsOfRow: readonly string[]): string =>
    cellsOfRow
      .map((cell, i) => (columns[i]?.text ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  const [header = [], ...body] = cells
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

/** Every section that has rows, then the targets. */
export function formatReport(results: BenchResults, targets: readonly TargetCheck[]): string {
  const sections: string[] = []
  const add = <T>(title: string, columns: readonly Column<T>[], rows: readonly T[]): void => {
    if (rows.length > 0) sections.push(`${title}\n${formatTable(columns, rows)}`)
  }
  add('Throughput and latency', THROUGHPUT, results.throughput)
  add('Background tasks', BACKGROUND, results.background)
  add('Idle memory', MEMORY, results.memory)
  add('Redis cost per groupSend', REDIS_COST, results.redisCost)
  add('Idle workers: Redis commands (a script call counts once)', IDLE_WORKERS, results.idleWorkers)
  add(
    'Idle workers: commands by name',
    IDLE_COMMANDS,
    results.idleWorkers.flatMap((run) => run.byCommand.map((entry) => ({ run, entry }))),
  )
  add('Group history: fan-out on Switchyard, history off and on', HISTORY_FANOUT, results.historyFanout)
  add('Group history: Redis memory of full histories (groups without members)', HISTORY_MEMORY, results.historyMemory)
  add('Group history: recovering missed messages (built package, one Redis)', RECOVERY, results.recovery)
  add('Group presence: one group, one Node process, its own Redis', PRESENCE, results.presence)
  add('Targets', TARGETS, targets)
  return sections.join('\n\n')
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)
}

interface Bar {
  readonly group: string
  readonly label: string
  readonly value: number
  readonly unit: string
  readonly ours: boolean
}

const BAR_HEIGHT = 20
const LABEL_WIDTH = 470
const BAR_WIDTH = 380

/** Throughput bars (higher is better), scaled within each workload and size, Switchyard in blue. */
export function renderSvgChart(results: BenchResults, title: string): string {
  const bars: Bar[] = [
    ...results.throughput.map((r) => ({
      group: `${r.workload} ${r.params}`,
      label: `${r.workload} ${r.params}: ${r.label}`,
      value: r.perSecond,
      unit: `${r.unit}/s`,
      ours: r.system === 'switchyard',
    })),
    ...results.background.map((r) => ({
      group: `background ${r.workers} ${r.failRate}`,
      label: `background ${r.workers} worker(s), ${r.failRate * 100} % failing: ${r.system}`,
      value: r.messagesPerSecond,
      unit: 'msgs/s',
      ours: r.system === 'switchyard',
    })),
  ]
  const maxByGroup = new Map<string, number>()
  for (const bar of bars) maxByGroup.set(bar.group, Math.max(maxByGroup.get(bar.group) ?? 0, bar.value))
  const height = 40 + bars.length * (BAR_HEIGHT + 6)
  const drawn = bars.map((bar, i) => {
    const y = 34 + i * (BAR_HEIGHT + 6)
    const max = maxByGroup.get(bar.group) ?? 1
    const width = max > 0 ? Math.max(1, (bar.value / max) * BAR_WIDTH) : 1
    const value = `${int(bar.value)} ${bar.unit}`
    return [
      `<text x="${LABEL_WIDTH - 8}" y="${y + 14}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${bar.ours ? '#2f6fb0' : '#9a9a9a'}"/>`,
      `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${y + 14}">${escapeXml(value)}</text>`,
    ].join('')
  })
  const totalWidth = LABEL_WIDTH + BAR_WIDTH + 180
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalWidth}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...drawn,
    '</svg>',
    '',
  ].join('\n')
}

export interface WrittenReport {
  readonly jsonPath: string
  readonly svgPath: string
  readonly markdownPath: string
}

/** Writes `<dir>/<timestamp>.json` (results, targets, machine facts), `.svg` (the chart) and `.md` (for docs/performance/index.md). */
export async function writeReport(
  dir: string,
  results: BenchResults,
  targets: readonly TargetCheck[],
  meta: Readonly<Record<string, unknown>>,
): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const jsonPath = join(dir, `${stamp}.json`)
  const svgPath = join(dir, `${stamp}.svg`)
  await writeFile(jsonPath, `${JSON.stringify({ ...meta, ...results, targets }, null, 2)}\n`)
  await writeFile(svgPath, renderSvgChart(results, `Switchyard bench ${stamp} (higher is better)`))
  const markdownPath = join(dir, `${stamp}.md`)
  await writeFile(markdownPath, renderMarkdown(results, targets))
  return { jsonPath, svgPath, markdownPath }
}
