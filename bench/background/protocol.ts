// What the bench parent and its worker child processes share: the config a child gets, the IPC messages both
// ways, and the deterministic failure rule, so both systems fail exactly the same tasks.
import { nowMs } from '../harness/ipc.js'

export type BenchSystem = 'switchyard' | 'bullmq'

/** Handed to a worker child in the BENCH_WORKER_CONFIG environment variable, as JSON. */
export interface WorkerConfig {
  readonly redisUrl: string
  /** The run's own key prefix (Switchyard layer prefix, or BullMQ queue prefix). */
  readonly prefix: string
  readonly queue: string
  readonly concurrency: number
  readonly failRate: number
  /** Switchyard's channel capacity (the queue must hold a whole run). */
  readonly capacity: number
}

/** Parent to child. */
export type ParentMessage = { readonly kind: 'start' } | { readonly kind: 'stop' }

/** Child to parent. */
export type ChildMessage =
  | { readonly kind: 'ready' }
  /** Tasks whose handler succeeded since the previous batch, and when the last of them did (epoch ms). */
  | { readonly kind: 'done'; readonly ns: readonly number[]; readonly lastAt: number }
  /** Sent once on stop: CPU time since `start`, µs, and handler attempts (failed ones included). */
  | { readonly kind: 'stats'; readonly cpuUserUs: number; readonly cpuSystemUs: number; readonly attempts: number }

export const CONFIG_ENV = 'BENCH_WORKER_CONFIG'

/** Whether task `n` fails its first attempt (and only that one): a pure function of n, ~failRate of tasks. */
export function failsFirstAttempt(n: number, failRate: number): boolean {
  if (failRate <= 0) return false
  let t = (Math.imul(n + 1, 0x9e3779b1) + 0x6d2b79f5) | 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296 < failRate
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

export function isParentMessage(value: unknown): value is ParentMessage {
  return isRecord(value) && (value.kind === 'start' || value.kind === 'stop')
}

export function isChildMessage(value: unknown): value is ChildMessage {
  if (!isRecord(value)) return false
  switch (value.kind) {
    case 'ready':
      return true
    case 'done':
      return Array.isArray(value.ns) && typeof value.lastAt === 'number'
    case 'stats':
      return (
        typeof value.cpuUserUs === 'number' &&
        typeof value.cpuSystemUs === 'number' &&
        typeof value.attempts === 'number'
      )
    default:
      return false
  }
}

export function readWorkerConfig(): WorkerConfig {
  const raw = process.env[CONFIG_ENV]
  if (raw === undefined) throw new Error(`${CONFIG_ENV} is not set: this file is started by run-background.ts`)
  const parsed: unknown = JSON.parse(raw)
  if (
    !isRecord(parsed) ||
    typeof parsed.redisUrl !== 'string' ||
    typeof parsed.prefix !== 'string' ||
    typeof parsed.queue !== 'string' ||
    typeof parsed.concurrency !== 'number' ||
    typeof parsed.failRate !== 'number' ||
    typeof parsed.capacity !== 'number'
  ) {
    throw new Error(`${CONFIG_ENV} is malformed: ${raw}`)
  }
  return {
    redisUrl: parsed.redisUrl,
    prefix: parsed.prefix,
    queue: parsed.queue,
    concurrency: parsed.concurrency,
    failRate: parsed.failRate,
    capacity: parsed.capacity,
  }
}

/** Handed to an idle-worker child (idle-worker.ts) in the BENCH_IDLE_WORKER_CONFIG environment variable, as JSON. */
export interface IdleWorkerConfig {
  readonly redisUrl: string
  readonly prefix: string
  /** The channels this process serves. */
  readonly channels: readonly string[]
}

export const IDLE_CONFIG_ENV = 'BENCH_IDLE_WORKER_CONFIG'

export function readIdleWorkerConfig(): IdleWorkerConfig {
  const raw = process.env[IDLE_CONFIG_ENV]
  if (raw === undefined) throw new Error(`${IDLE_CONFIG_ENV} is not set: this file is started by run-idle.ts`)
  const parsed: unknown = JSON.parse(raw)
  if (
    !isRecord(parsed) ||
    typeof parsed.redisUrl !== 'string' ||
    typeof parsed.prefix !== 'string' ||
    !Array.isArray(parsed.channels) ||
    !parsed.channels.every((channel) => typeof channel === 'string')
  ) {
    throw new Error(`${IDLE_CONFIG_ENV} is malformed: ${raw}`)
  }
  return { redisUrl: parsed.redisUrl, prefix: parsed.prefix, channels: parsed.channels }
}

/**
 * The child side of the IPC protocol, common to both systems: batches completions every 20 ms, starts the
 * system on `start` (CPU baseline taken there), and on `stop` stops it, flushes, reports CPU and exits.
 */
export class ChildReporter {
  private pending: number[] = []
  private lastAt = 0
  private attempts = 0
  private cpuBase: NodeJS.CpuUsage | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly hooks: { readonly start: () => void | Promise<void>; readonly stop: () => Promise<void> },
  ) {}

  /** Counts one handler attempt (successful or not). */
  attempt(): void {
    this.attempts++
  }

  /** Records that task n's handler succeeded. */
  completed(n: number): void {
    this.pending.push(n)
    this.lastAt = nowMs()
  }

  listen(): void {
    process.on('message', (message: unknown) => {
      if (!isParentMessage(message)) return
      if (message.kind === 'start') void this.start()
      else void this.stop()
    })
    send({ kind: 'ready' })
  }

  private async start(): Promise<void> {
    this.cpuBase = process.cpuUsage()
    this.timer = setInterval(() => {
      this.flush()
    }, 20)
    await this.hooks.start()
  }

  private async stop(): Promise<void> {
    const cpu = process.cpuUsage(this.cpuBase)
    await this.hooks.stop()
    clearInterval(this.timer)
    this.flush()
    send({ kind: 'stats', cpuUserUs: cpu.user, cpuSystemUs: cpu.system, attempts: this.attempts }, () => {
      process.exit(0)
    })
  }

  private flush(): void {
    if (this.pending.length === 0) return
    const ns = this.pending
    this.pending = []
    send({ kind: 'done', ns, lastAt: this.lastAt })
  }
}

function send(message: ChildMessage, callback?: () => void): void {
  if (process.send === undefined) throw new Error('no IPC channel: this file is started by run-background.ts')
  process.send(message, undefined, {}, callback)
}
