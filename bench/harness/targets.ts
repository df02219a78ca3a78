/**
 * Issue 8's, 13's and 16's targets, checked against the references measured in the same run. A target whose rows
 * are missing (a partial run with --only) is left out rather than guessed.
 */
import type { BackgroundRow, BenchResult, BenchResults, HistoryFanoutRow } from './result.js'

export interface TargetCheck {
  readonly target: string
  readonly measured: string
  readonly met: boolean
}

const KIB = 1024
/** Issue 13: what an idle worker channel may cost Redis, commands per second (a script call counts once). */
const IDLE_CHANNEL_COMMANDS_PER_SECOND = 2

function row(
  rows: readonly BenchResult[],
  system: string,
  workload: BenchResult['workload'],
  size?: string,
): BenchResult | undefined {
  return rows.find(
    (r) => r.system === system && r.workload === workload && (size === undefined || r.params.startsWith(size)),
  )
}

const x = (ratio: number): string => `${ratio.toFixed(2)}x`

/** CPU per unit and rate against bare ws for one workload (fan-out at 200 clients, echo). */
function againstWs(rows: readonly BenchResult[], workload: 'echo' | 'fanout', size?: string): TargetCheck[] {
  const ours = row(rows, 'switchyard', workload, size)
  const ws = row(rows, 'ws', workload, size)
  if (ours === undefined || ws === undefined) return []
  const cpu = ours.cpuUsPerUnit / ws.cpuUsPerUnit
  const rate = ours.perSecond / ws.perSecond
  const what = `${workload} ${ours.params}`
  return [
    { target: `${what}: server CPU per unit <= 1.2x bare ws`, measured: x(cpu), met: cpu <= 1.2 },
    { target: `${what}: ${ours.unit}/s >= 0.9x bare ws`, measured: x(rate), met: rate >= 0.9 },
  ]
}

function background(rows: readonly BackgroundRow[]): TargetCheck[] {
  const checks: TargetCheck[] = []
  for (const ours of rows.filter((r) => r.system === 'switchyard')) {
    const bull = rows.find((r) => r.system === 'bullmq' && r.workers === ours.workers && r.failRate === ours.failRate)
    if (bull === undefined) continue
    const what = `background ${ours.workers} worker(s), ${ours.failRate * 100} % failing once`
    const rate = ours.messagesPerSecond / bull.messagesPerSecond
    const cpu = ours.workerCpuUsPerMessage / bull.workerCpuUsPerMessage
    checks.push(
      { target: `${what}: msgs/s >= 2x BullMQ`, measured: x(rate), met: rate >= 2 },
      { target: `${what}: worker CPU per message <= 0.5x BullMQ`, measured: x(cpu), met: cpu <= 0.5 },
      { target: `${what}: every task done, none lost`, measured: `lost ${ours.lost}`, met: ours.ok && ours.lost === 0 },
    )
  }
  return checks
}

/** Issue 16: what keeping a group's history may cost the server, per delivery, against the same fan-out without. */
const HISTORY_CPU_RATIO = 1.15

function history(rows: readonly HistoryFanoutRow[]): TargetCheck[] {
  const checks: TargetCheck[] = []
  const [first] = rows
  if (first !== undefined) {
    checks.push({
      target: `fanout ${first.params}: server CPU per delivery with history <= ${HISTORY_CPU_RATIO}x without`,
      measured: x(first.cpuRatio),
      met: first.cpuRatio <= HISTORY_CPU_RATIO,
    })
    const lost = rows.reduce((sum, r) => sum + r.on.lost + r.on.duplicated, 0)
    checks.push({
      target: 'fan-out with history: 0 lost, 0 duplicated (every size)',
      measured: `${lost} lost or duplicated`,
      met: lost === 0,
    })
  }
  return checks
}

export function checkTargets(results: BenchResults): TargetCheck[] {
  const rows = results.throughput
  const checks = [...againstWs(rows, 'fanout', '200 clients x'), ...againstWs(rows, 'echo')]
  const paced = row(rows, 'switchyard', 'fanout paced')
  if (paced !== undefined) {
    checks.push({
      target: 'fan-out paced: p99 <= 15 ms',
      measured: `${paced.p99Ms.toFixed(1)} ms`,
      met: paced.p99Ms <= 15,
    })
  }
  const fanouts = rows.filter((r) => r.system === 'switchyard' && r.workload !== 'echo')
  if (fanouts.length > 0) {
    const lost = fanouts.reduce((sum, r) => sum + r.lost + r.duplicated, 0)
    checks.push({
      target: 'fan-out: 0 lost, 0 duplicated with default settings (every fan-out row)',
      measured: `${lost} lost or duplicated`,
      met: lost === 0,
    })
  }
  checks.push(...background(results.background))
  const memory = results.memory.find((r) => r.system === 'switchyard')
  if (memory !== undefined) {
    const heap = (memory.heapBytesPerConnection ?? Infinity) / KIB
    const rss = memory.rssBytesPerConnection / KIB
    checks.push(
      { target: 'idle connection: heap <= 4.5 KiB', measured: `${heap.toFixed(2)} KiB`, met: heap <= 4.5 },
      { target: 'idle connection: RSS <= 10 KiB', measured: `${rss.toFixed(2)} KiB`, met: rss <= 10 },
    )
  }
  if (results.redisCost.length > 1) {
    const trips = new Set(results.redisCost.map((r) => r.roundTrips))
    const bytes = results.redisCost.map((r) => r.bytesSent)
    const spread = Math.max(...bytes) / Math.min(...bytes)
    checks.push({
      target: 'groupSend: Redis round trips and bytes independent of members (one process)',
      measured: `round trips ${[...trips].join('/')}, bytes ${Math.min(...bytes)}-${Math.max(...bytes)}`,
      met: trips.size === 1 && spread <= 1.05,
    })
  }
  checks.push(...history(results.historyFanout))
  for (const idle of results.idleWorkers) {
    const perChannel = idle.commandsPerChannelPerSecond
    checks.push({
      target: 'idle worker channel: Redis commands <= 2 per second on average',
      measured: `${perChannel.toFixed(2)}/s (${idle.channels} channels, ${idle.processes} process(es))`,
      met: perChannel <= IDLE_CHANNEL_COMMANDS_PER_SECOND,
    })
  }
  return checks
}
