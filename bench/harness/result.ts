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
  /** Fan-out only: how long the publisher took to send every broadcast (how bursty the load was). */
  readonly publishMs?: number
  /**
   * Fan-out only, where /proc is readable: the servers' write system calls per delivery (to clients and Redis alike).
   * Frames a server writes to a socket in one tick leave in one `writev`, so this falls as bursts grow, and CPU per
   * delivery with it.
   */
  readonly writeSyscallsPerUnit?: number
  /**
   * Fan-out only, where the publisher sends through ioredis (not Django's): the Redis commands it sent per broadcast
   * (publisher.ts), e.g. one script call per shard a `groupSend` reaches.
   */
  readonly publisherCommandsPerMessage?: number
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

/** One fan-out size run with group history off (`switchyard`) and on (`switchyard-history`), in turns. */
export interface HistoryFanoutRow {
  readonly params: string
  /** Messages the group keeps with history on. */
  readonly historySize: number
  readonly off: BenchResult
  readonly on: BenchResult
  /** Server CPU per delivery, on / off. */
  readonly cpuRatio: number
  /** Deliveries per second, on / off. */
  readonly rateRatio: number
}

/** One of a history group's Redis keys, by `MEMORY USAGE <key> SAMPLES 0`. */
export interface KeyMemory {
  /** What it is (keys.ts): `history`, `position`, `group (proxy member)`. */
  readonly role: string
  readonly type: string
  readonly encoding: string
  readonly bytes: number
}

/** Redis memory of groups with a full history (no members). */
export interface HistoryMemoryResult {
  readonly groups: number
  readonly messagesPerGroup: number
  /** The text field of each message, in bytes. */
  readonly textBytes: number
  /** One kept message as stored: `<sent ms>|` and the encoded payload, in bytes. */
  readonly storedMessageBytes: number
  /** INFO `used_memory` after filling the groups minus before, per group. */
  readonly usedMemoryBytesPerGroup: number
  /** The keys of one of the groups. */
  readonly keys: KeyMemory[]
}

/** Recoveries of a number of missed messages: a new channel joins with `recover` and receives them all. */
export interface RecoveryResult {
  readonly messages: number
  readonly textBytes: number
  readonly recoveries: number
  /** `groupAdd` call to the last replayed message received. */
  readonly p50Ms: number
  readonly p99Ms: number
  /** `groupAdd` call to its promise resolving. */
  readonly groupAddP50Ms: number
  readonly groupAddP99Ms: number
}

/** One group's presence list of `members` channels (one Node process), listed `lists` times. */
export interface PresenceResult {
  readonly members: number
  /** One entry's info, as JSON. */
  readonly infoBytes: number
  readonly lists: number
  /** `layer.presence.list(group)`, call to resolved. */
  readonly p50Ms: number
  readonly p99Ms: number
  /** The list script's time in Redis (SLOWLOG), per call (the unmeasured first lists too): how long one holds Redis. */
  readonly scriptP50Ms: number
  readonly scriptP99Ms: number
  /** `presence.join` calls per second while filling the list (50 at a time). */
  readonly joinsPerSecond: number
  /** INFO `used_memory` after the joins minus before, per member. */
  readonly usedMemoryBytesPerMember: number
  readonly keys: KeyMemory[]
}

export interface BenchResults {
  readonly throughput: BenchResult[]
  readonly memory: MemoryResult[]
  readonly redisCost: RedisCostResult[]
  readonly background: BackgroundRow[]
  /** Redis commands idle RetryingConsumer channels cost (see bench/background/run-idle.ts). */
  readonly idleWorkers: IdleResult[]
  /** `--only history`: fan-out with history off and on, Redis memory of a history, recovery time. */
  readonly historyFanout: HistoryFanoutRow[]
  readonly historyMemory: HistoryMemoryResult[]
  readonly recovery: RecoveryResult[]
  /** `--only presence`: presence list latency and memory. */
  readonly presence: PresenceResult[]
}

export function emptyResults(): BenchResults {
  return {
    throughput: [],
    memory: [],
    redisCost: [],
    background: [],
    idleWorkers: [],
    historyFanout: [],
    historyMemory: [],
    recovery: [],
    presence: [],
  }
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
    publishMs: optionalMedian(runs.map((r) => r.publishMs)),
    writeSyscallsPerUnit: optionalMedian(runs.map((r) => r.writeSyscallsPerUnit)),
    publisherCommandsPerMessage: optionalMedian(runs.map((r) => r.publisherCommandsPerMessage)),
  }
}

/** The median of figures every run has, else undefined. */
function optionalMedian(values: readonly (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined)
  return known.length === values.length ? median(known) : undefined
}
