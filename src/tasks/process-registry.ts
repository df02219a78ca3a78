/** Liveness as a registry lister computes it from the last report. */
interface Heartbeat {
  readonly heartbeatAgeMs: number
  /** False once the last report is older than three report periods. */
  readonly alive: boolean
}

/** What a worker (one TaskRunner: one channel in one process) reports about itself on every renewal tick. */
export interface WorkerReport {
  /** `<host>:<pid>:<channel>` */
  readonly id: string
  readonly host: string
  readonly pid: number
  readonly channel: string
  readonly concurrency: number
  readonly inFlight: number
  readonly processed: number
  readonly failed: number
  readonly retried: number
  readonly dead: number
  /** Unix ms when the worker started. */
  readonly startedAt: number
  /** How often it reports: a worker is alive while its last report is younger than three of these. */
  readonly renewalMs: number
}

/** What a server (the fastify `switchyard` plugin in one process) reports about itself every few seconds. */
export interface ServerReport {
  /** `<host>:<pid>:<port or 'unlistened'>` */
  readonly id: string
  readonly host: string
  readonly pid: number
  /** Live WebSocket connections. */
  readonly connections: number
  readonly accepted: number
  readonly rejected: number
  readonly closedSlow: number
  readonly droppedOutbound: number
  /** Unix ms when the server started. */
  readonly startedAt: number
  /** How often it reports: a server is alive while its last report is younger than three of these. */
  readonly reportIntervalMs: number
}

/** Registry entries (workers and servers) whose last report is older than this are dropped when listed. */
export const WORKER_FORGET_AFTER_MS = 3_600_000

/** A report as a snapshot: its heartbeat age and liveness at `now`. */
export function workerSnapshot(report: WorkerReport, beatAt: number, now: number): WorkerSnapshot {
  const { renewalMs: _renewalMs, ...fields } = report
  const heartbeatAgeMs = Math.max(0, now - beatAt)
  return { ...fields, heartbeatAgeMs, alive: heartbeatAgeMs < 3 * report.renewalMs }
}

/** A server report as a snapshot: its report age and liveness at `now`. */
export function serverSnapshot(report: ServerReport, beatAt: number, now: number): ServerSnapshot {
  const { reportIntervalMs: _reportIntervalMs, ...fields } = report
  const heartbeatAgeMs = Math.max(0, now - beatAt)
  return { ...fields, heartbeatAgeMs, alive: heartbeatAgeMs < 3 * report.reportIntervalMs }
}

/** A worker serving one channel (one RetryingConsumer), as it last reported itself. */
export interface WorkerSnapshot extends Omit<WorkerReport, 'renewalMs'>, Heartbeat {}

/** A web process (one `switchyard` plugin), as it last reported itself. */
export interface ServerSnapshot extends Omit<ServerReport, 'reportIntervalMs'>, Heartbeat {}

/**
 * Who is alive on a layer: workers report on every renewal tick, web servers every `statsReportIntervalMs`, and
 * monitoring lists them (on Redis across every process on the prefix). A layer keeps it beside its tasks.
 */
export interface ProcessRegistry {
  /** Records a worker's latest report (its heartbeat), replacing the previous one. */
  reportWorker(report: WorkerReport): Promise<void>
  /** Every worker that reported within the last hour, sorted by id (older entries are dropped). */
  listWorkers(): Promise<WorkerSnapshot[]>
  /** Removes a worker from the registry (it stopped). */
  forgetWorker(id: string): Promise<void>
  /** Records a server's latest report (connections and counters), replacing the previous one. */
  reportServer(report: ServerReport): Promise<void>
  /** Every server that reported within the last hour, sorted by id (older entries are dropped). */
  listServers(): Promise<ServerSnapshot[]>
  /** Removes a server from the registry (it closed). */
  forgetServer(id: string): Promise<void>
}
