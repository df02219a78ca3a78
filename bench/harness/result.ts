/** What a benchmark run measures: one row type per kind of workload, gathered in one report. */
import { median } from './stats.js'
import type { GroupSendCost } from '../../test/support/group-send-cost.js'
import type { IdleResult } from '../background/run-idle.js'

export type ThroughputWorkload = 'echo' | 'fanout' | 'fanout paced' | 'fanout 3 servers'

/** One measured row: a throughput workload at one size against one system. */
export interface BenchResult {
  readonly system: string
  readonly label: string
  readonly workload: ThroughputWorkload
  /** e.g. `50 conn x 200` or `200 clients x 200` */
  readonly params: string
  /** What `count` and `perSecond` count: round trips or deliveries. */
  readonly unit: string
  readonly count: number
  readonly durationMs: number
  readonly perSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Fan-out only (0 for echo): messages a client never got. */
  readonly lost: number
  /** Fan-out only (0 for echo): messages a client got more than once. */
  readonly duplicated: number
  /** The server processes' CPU time during the run. */
  readonly serverCpuMs: number
  /** Server CPU per round trip or delivery, in microseconds. */
  readonly cpuUsPerUnit: number
  /** redis-server's CPU time during the run, where /proc is readable. */
  readonly redisCpuMs: number | null
}

/** Idle connections held by one server process. */
export interface MemoryResult {
  readonly system: string
  readonly label: string
  readonly connections: number
  /** V8 heap after a full GC, per connection; null for non-Node servers. */
  readonly heapBytesPerConnection: number | null
  readonly rssBytesPerConnection: number
}

/** One groupSend to a group whose members all live in one Node process. */
export interface RedisCostResult extends GroupSendCost {
  readonly members: number
}

/** One background-task run (see bench/background/run-background.ts). */
export interface BackgroundRow {
  readonly system: string
  readonly workers: number
  readonly concurrency: number
  readonly failRate: number
  readonly messages: number
  readonly messagesPerSecond: number
  readonly workerCpuUsPerMessage: number
  readonly attempts: number
  readonly lost: number
  readonly ok: boolean
}

export interface BenchResults {
  readonly throughput: BenchResult[]
  readonly memory: MemoryResult[]
  readonly redisCost: RedisCostResult[]
  readonly background: BackgroundRow[]
  /** Redis commands idle RetryingConsumer channels cost (see bench/background/run-idle.ts). */
  readonly idleWorkers: IdleResult[]
}

export function emptyResults(): BenchResults {
  return { throughput: [], memory: [], redisCost: [], background: [], idleWorkers: [] }
}

/**
 * Repeated runs of one workload on one system as one row: the median of every rate, latency and CPU figure, the
 * worst lost and duplicated counts (a loss in any run is a loss).
 */
export function medianRow(runs: readonly BenchResult[]): BenchResult {
  const [first] = runs
  if (first === undefined) throw new Error('no runs to summarize')
  const mid = (pick: (r: BenchResult) => number): number => median(runs.map(pick))
  const redis = runs.map((r) => r.redisCpuMs).filter((ms): ms is number => ms !== null)
  return {
    ...first,
    params: runs.length > 1 ? `${first.params}, median of ${runs.length}` : first.params,
    count: mid((r) => r.count),
    durationMs: mid((r) => r.durationMs),
    perSecond: mid((r) => r.perSecond),
    p50Ms: mid((r) => r.p50Ms),
    p99Ms: mid((r) => r.p99Ms),
    lost: Math.max(...runs.map((r) => r.lost)),
    duplicated: Math.max(...runs.map((r) => r.duplicated)),
    serverCpuMs: mid((r) => r.serverCpuMs),
    cpuUsPerUnit: mid((r) => r.cpuUsPerUnit),
    redisCpuMs: redis.length === runs.length ? median(redis) : null,
  }
}
