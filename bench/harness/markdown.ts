/**
 * The run as Markdown for docs/performance/index.md: one comparison table with a column per system (as the issue lays it out),
 * then the targets. Every figure comes from the run's results.
 */
import type { IdleResult } from '../background/run-idle.js'
import type {
  BackgroundRow,
  BenchResult,
  BenchResults,
  HistoryFanoutRow,
  HistoryMemoryResult,
  MemoryResult,
  PresenceResult,
  RecoveryResult,
} from './result.js'
import type { TargetCheck } from './targets.js'

const COLUMNS = [
  { system: 'switchyard', title: 'Switchyard' },
  { system: 'switchyard-cluster', title: 'Switchyard on a Redis Cluster' },
  { system: 'django', title: 'Django Channels (daphne + channels_redis)' },
  { system: 'socketio', title: 'Socket.IO + Redis adapter' },
  { system: 'ws', title: 'bare `ws` + Redis pub/sub' },
  { system: 'bullmq', title: 'BullMQ' },
] as const

type Cell = (system: string) => string | undefined

const int = (n: number): string => Math.round(n).toLocaleString('en-US')
const ms = (n: number): string => (n < 10 ? n.toFixed(1) : int(n))

function throughputRows(results: BenchResults): [string, Cell][] {
  const find = (system: string, workload: string, size: string): BenchResult | undefined =>
    results.throughput.find((r) => r.system === system && r.workload === workload && r.params.startsWith(size))
  const rows: [string, Cell][] = []
  const sizes = [...new Map(results.throughput.map((r) => [`${r.workload}|${r.params}`, r])).values()]
  for (const sample of sizes) {
    const size = sample.params.replace(/, median of \d+$/, '')
    const get = (system: string): BenchResult | undefined => find(system, sample.workload, size)
    const name = `${sample.workload}, ${sample.params}`
    if (sample.workload === 'fanout paced') {
      rows.push([`${name}: p50 / p99 ms`, (s) => map(get(s), (r) => `${ms(r.p50Ms)} / ${ms(r.p99Ms)}`)])
    } else {
      rows.push([`${name}: ${sample.unit}/s`, (s) => map(get(s), (r) => int(r.perSecond))])
      rows.push([`${name}: p50 / p99 ms`, (s) => map(get(s), (r) => `${ms(r.p50Ms)} / ${ms(r.p99Ms)}`)])
    }
    rows.push([
      `${name}: server CPU µs per ${singular(sample.unit)}`,
      (s) => map(get(s), (r) => r.cpuUsPerUnit.toFixed(1)),
    ])
    if (sample.workload !== 'echo') {
      rows.push([`${name}: lost / duplicated`, (s) => map(get(s), (r) => `${int(r.lost)} / ${int(r.duplicated)}`)])
      rows.push([
        `${name}: publisher Redis commands per broadcast`,
        (s) => map(get(s)?.publisherCommandsPerMessage, (n) => n.toFixed(2)),
      ])
    }
  }
  return rows
}

function backgroundRows(rows: readonly BackgroundRow[]): [string, Cell][] {
  const keys = [...new Set(rows.map((r) => `${r.workers}|${r.failRate}`))]
  return keys.flatMap((key): [string, Cell][] => {
    const get = (system: string): BackgroundRow | undefined =>
      rows.find((r) => r.system === system && `${r.workers}|${r.failRate}` === key)
    const sample = rows.find((r) => `${r.workers}|${r.failRate}` === key)
    if (sample === undefined) return []
    const name = `background, ${int(sample.messages)} msgs, ${sample.workers} worker(s) x ${sample.concurrency}, ${sample.failRate * 100} % failing once`
    return [
      [`${name}: msgs/s`, (s) => map(get(s), (r) => int(r.messagesPerSecond))],
      [`${name}: worker CPU µs per msg`, (s) => map(get(s), (r) => r.workerCpuUsPerMessage.toFixed(1))],
    ]
  })
}

function memoryRows(rows: readonly MemoryResult[]): [string, Cell][] {
  const sample = rows[0]
  if (sample === undefined) return []
  const kib = (bytes: number | null): string => (bytes === null ? '-' : (bytes / 1024).toFixed(1))
  return [
    [
      `idle memory per connection (${int(sample.connections)} idle), heap / RSS KiB`,
      (s) =>
        map(
          rows.find((r) => r.system === s),
          (r) => `${kib(r.heapBytesPerConnection)} / ${kib(r.rssBytesPerConnection)}`,
        ),
    ],
  ]
}

function idleWorkerRows(rows: readonly IdleResult[]): [string, Cell][] {
  return rows.map((r): [string, Cell] => [
    `idle workers, ${int(r.channels)} RetryingConsumer channels in ${r.processes} process(es): Redis commands/s per channel`,
    (s) => (s === 'switchyard' ? r.commandsPerChannelPerSecond.toFixed(2) : undefined),
  ])
}

/** Each idle-workers run's commands by name, as calls per second in total and per channel. */
function idleCommandLines(rows: readonly IdleResult[]): string[] {
  return rows.flatMap((r) => {
    const perSecond = (calls: number): number => (calls * 1_000) / r.windowMs
    return [
      '',
      `| Redis commands of ${int(r.channels)} idle channels in ${r.processes} process(es), ${(r.windowMs / 1_000).toFixed(0)} s | per s | per channel per s |`,
      '|---|---:|---:|',
      ...r.byCommand.map(
        (c) => `| ${c.command} | ${perSecond(c.calls).toFixed(1)} | ${(perSecond(c.calls) / r.channels).toFixed(3)} |`,
      ),
      `| **total** (a script call counts once) | ${r.commandsPerSecond.toFixed(1)} | ${r.commandsPerChannelPerSecond.toFixed(2)} |`,
    ]
  })
}

/** Switchyard's fan-out with history off and on, a pair of columns per size and the ratio. */
function historyFanoutLines(rows: readonly HistoryFanoutRow[]): string[] {
  const pair = (r: HistoryFanoutRow, name: string, get: (b: BenchResult) => string, ratio = ''): string =>
    `| ${r.params}: ${name} | ${get(r.off)} | ${get(r.on)} | ${ratio} |`
  return rows.flatMap((r) => [
    '',
    `| fanout on Switchyard, ${r.params}, history of ${r.historySize} messages | off | on | on / off |`,
    '|---|---:|---:|---:|',
    pair(r, 'deliveries/s', (b) => int(b.perSecond), `${r.rateRatio.toFixed(2)}x`),
    pair(r, 'p50 / p99 ms', (b) => `${ms(b.p50Ms)} / ${ms(b.p99Ms)}`),
    pair(r, 'server CPU µs per delivery', (b) => b.cpuUsPerUnit.toFixed(2), `${r.cpuRatio.toFixed(2)}x`),
    pair(r, 'redis-server CPU ms', (b) => (b.redisCpuMs === null ? '-' : int(b.redisCpuMs))),
    pair(r, 'publisher ms for every broadcast', (b) => (b.publishMs === undefined ? '-' : int(b.publishMs))),
    pair(r, 'server write system calls per delivery', (b) => b.writeSyscallsPerUnit?.toFixed(3) ?? '-'),
    pair(r, 'lost / duplicated', (b) => `${int(b.lost)} / ${int(b.duplicated)}`),
  ])
}

function historyMemoryLines(rows: readonly HistoryMemoryResult[]): string[] {
  return rows.flatMap((r) => [
    '',
    `| Redis memory of a group with a ${r.messagesPerGroup}-message history (${int(r.groups)} groups, no members; ${r.textBytes} B of text, ${r.storedMessageBytes} B stored per message) | bytes |`,
    '|---|---:|',
    `| INFO used_memory, after minus before, per group | ${int(r.usedMemoryBytesPerGroup)} |`,
    ...r.keys.map((k) => `| one group's ${k.role}: ${k.type}, ${k.encoding} (MEMORY USAGE) | ${int(k.bytes)} |`),
  ])
}

function recoveryLines(rows: readonly RecoveryResult[]): string[] {
  return rows.flatMap((r) => [
    '',
    `| recovering ${r.messages} missed messages (${r.textBytes} B of text each), ${r.recoveries} recoveries | p50 ms | p99 ms |`,
    '|---|---:|---:|',
    `| groupAdd with recover, call to the ${r.messages}th message received | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`,
    `| groupAdd with recover, call to its promise resolving | ${r.groupAddP50Ms.toFixed(2)} | ${r.groupAddP99Ms.toFixed(2)} |`,
  ])
}

function presenceLines(rows: readonly PresenceResult[]): string[] {
  return rows.flatMap((r) => [
    '',
    `| presence list of ${int(r.members)} members (${r.infoBytes} B of info each), ${r.lists} lists | value |`,
    '|---|---:|',
    `| layer.presence.list, p50 / p99 ms | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} |`,
    `| its script in Redis (SLOWLOG), p50 / p99 ms | ${r.scriptP50Ms.toFixed(2)} / ${r.scriptP99Ms.toFixed(2)} |`,
    `| presence.join while filling it (50 at a time), joins/s | ${int(r.joinsPerSecond)} |`,
    `| INFO used_memory, after minus before, per member, bytes | ${int(r.usedMemoryBytesPerMember)} |`,
    ...r.keys.map((k) => `| ${k.role}: ${k.type}, ${k.encoding} (MEMORY USAGE), bytes | ${int(k.bytes)} |`),
  ])
}

function map<T>(value: T | undefined, format: (value: T) => string): string | undefined {
  return value === undefined ? undefined : format(value)
}

function singular(unit: string): string {
  return unit === 'deliveries' ? 'delivery' : unit.replace(/s$/, '')
}

export function renderMarkdown(results: BenchResults, targets: readonly TargetCheck[]): string {
  const rows = [
    ...throughputRows(results),
    ...backgroundRows(results.background),
    ...memoryRows(results.memory),
    ...idleWorkerRows(results.idleWorkers),
  ]
  const used = COLUMNS.filter((column) => rows.some(([, cell]) => cell(column.system) !== undefined))
  // A run of `--only history` (or `redis`) has no row for the comparison table: its tables come below.
  const lines =
    rows.length === 0
      ? []
      : [
          `| workload | ${used.map((c) => c.title).join(' | ')} |`,
          `|---|${used.map(() => '---:').join('|')}|`,
          ...rows.map(([name, cell]) => `| ${name} | ${used.map((c) => cell(c.system) ?? '').join(' | ')} |`),
        ]
  if (results.redisCost.length > 0) {
    lines.push(
      '',
      '| groupSend to a group of N members in one Node process | round trips | bytes sent to Redis | script µs |',
      '|---|---:|---:|---:|',
      ...results.redisCost.map(
        (r) => `| ${int(r.members)} members | ${r.roundTrips} | ${r.bytesSent} | ${int(r.scriptUsec)} |`,
      ),
    )
  }
  lines.push(...idleCommandLines(results.idleWorkers))
  lines.push(...historyFanoutLines(results.historyFanout))
  lines.push(...historyMemoryLines(results.historyMemory))
  lines.push(...recoveryLines(results.recovery))
  lines.push(...presenceLines(results.presence))
  if (targets.length > 0) {
    lines.push(
      '',
      '| target | measured | met |',
      '|---|---|---|',
      ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
    )
  }
  return `${lines.join('\n').trim()}\n`
}
