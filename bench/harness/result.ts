/** One measured row: a workload at one size against one system. */
export interface BenchResult {
  readonly system: string
  readonly label: string
  readonly workload: 'echo' | 'fanout'
  /** e.g. `50 conn x 200` or `200 clients x 50 msgs` */
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
  /** The server process's CPU time during the run. */
  readonly serverCpuMs: number
  /** Server CPU per round trip or delivery, in microseconds. */
  readonly cpuUsPerUnit: number
  /** redis-server's CPU time during the run, where /proc is readable. */
  readonly redisCpuMs: number | null
}
