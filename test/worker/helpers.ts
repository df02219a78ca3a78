export { sleep, waitFor } from '../support/wait.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Redis } from 'ioredis'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { WorkerHandle } from '../../src/worker/worker.js'
import { JOBS } from './fixtures/recording-app.js'

/** A fixed-length key prefix of its own for each test, so cleanup never reaches other keys. */
export function uniquePrefix(): string {
  return `w${randomBytes(6).toString('hex')}`
}

/**
 * What a test opened, closed in `afterEach` by `closeAll()`: child processes SIGKILLed, workers stopped, layers
 * flushed (their prefix only) and closed, plain clients disconnected, temporary directories removed.
 */
export class Resources {
  private readonly workers: WorkerHandle[] = []
  private readonly layers: RedisChannelLayer[] = []
  private readonly clients: Redis[] = []
  private readonly children: ChildProcess[] = []
  private readonly dirs: string[] = []

  layer(url: string, prefix: string, options: { readonly capacity?: number } = {}): RedisChannelLayer {
    const layer = new RedisChannelLayer({ hosts: [url], prefix, ...options })
    this.layers.push(layer)
    return layer
  }

  client(url: string): Redis {
    const client = new Redis(url)
    this.clients.push(client)
    return client
  }

  worker(handle: WorkerHandle): WorkerHandle {
    this.workers.push(handle)
    return handle
  }

  child(child: ChildProcess): void {
    this.children.push(child)
  }

  /** A file path in a fresh temporary directory (the file itself is not created). */
  tempFile(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-worker-'))
    this.dirs.push(dir)
    return join(dir, name)
  }

  async closeAll(): Promise<void> {
    for (const child of this.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    await Promise.all(this.workers.splice(0).map((worker) => worker.stop()))
    const layers = this.layers.splice(0)
    const flushed = new Set<string>()
    for (const layer of layers) {
      if (flushed.has(layer.options.prefix)) continue
      flushed.add(layer.options.prefix)
      await layer.flush()
    }
    await Promise.all(layers.map((layer) => layer.close()))
    for (const client of this.clients.splice(0)) client.disconnect()
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  }
}

export interface WorkerProcessOptions {
  readonly redisUrl: string
  readonly prefix: string
  readonly recordFile: string
  readonly taskMs: number
  readonly visibilityMs: number
  readonly concurrency: number
  readonly shutdownTimeoutMs: number
  readonly honourSignal: boolean
  /** Every task's first attempt fails (fixtures/recording-app.ts `failFirstAttempt`). */
  readonly failFirstAttempt?: boolean
}

export interface WorkerProcess {
  readonly child: ChildProcess
  /** Resolves once the worker printed that it serves `jobs`. */
  readonly ready: Promise<void>
  /** Resolves with the exit code and signal when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Its stdout and stderr so far (for failure messages). */
  output(): string
}

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const APP = fileURLToPath(new URL('./fixtures/worker-app.ts', import.meta.url))

/**
 * Starts what users run, `switchyard worker --app fixtures/worker-app.ts jobs`, in a child process (registered with
 * `resources` for cleanup).
 */
export function spawnWorkerProcess(resources: Resources, options: WorkerProcessOptions): WorkerProcess {
  const args = [
    ...['--import', 'tsx', CLI, 'worker', '--app', APP, '--prefix', options.prefix],
    ...['--concurrency', String(options.concurrency), '--shutdown-timeout-ms', String(options.shutdownTimeoutMs)],
    JOBS,
  ]
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      REDIS_URL: options.redisUrl,
      RECORD_FILE: options.recordFile,
      TASK_MS: String(options.taskMs),
      VISIBILITY_MS: String(options.visibilityMs),
      HONOUR_SIGNAL: options.honourSignal ? '1' : '0',
      FAIL_FIRST: options.failFirstAttempt === true ? '1' : '0',
    },
  })
  resources.child(child)
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes(`serving channel ${JOBS}`)) resolve()
    })
    child.once('exit', () => {
      reject(new Error(`the worker process exited before it was ready:\n${output}`))
    })
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal })
    })
  })
  return { child, ready, exited, output: () => output }
}

/** `count` worker processes of the same options, once every one of them serves `jobs`. */
export async function spawnWorkerProcesses(
  resources: Resources,
  count: number,
  options: WorkerProcessOptions,
): Promise<WorkerProcess[]> {
  const workers = Array.from({ length: count }, () => spawnWorkerProcess(resources, options))
  await Promise.all(workers.map((worker) => worker.ready))
  return workers
}

/** One record of `fixtures/recording-app.ts`. */
export type RunEvent =
  | { readonly kind: 'start'; readonly taskId: string; readonly attempt: number; readonly pid: number }
  | { readonly kind: 'done'; readonly taskId: string; readonly pid: number }
  | {
      readonly kind: 'fail'
      readonly taskId: string
      readonly attempt: number
      readonly willRetry: boolean
      readonly error: string
    }

/** The recording application's events, in order. */
export function runEvents(recordFile: string): RunEvent[] {
  if (!existsSync(recordFile)) return []
  const lines = readFileSync(recordFile, 'utf8').split('\n')
  return lines
    .filter((line) => line !== '')
    .map((line): RunEvent => {
      const [kind, taskId = '', a = '', b = '', ...rest] = line.split(' ')
      if (kind === 'start') return { kind, taskId, attempt: Number(a), pid: Number(b) }
      if (kind === 'done') return { kind, taskId, pid: Number(a) }
      if (kind === 'fail') return { kind, taskId, attempt: Number(a), willRetry: b === 'true', error: rest.join(' ') }
      throw new Error(`unknown run event: ${line}`)
    })
}

/** How many events of `kind` each task has. */
export function countBy(events: readonly RunEvent[], kind: RunEvent['kind']): Map<string, number> {
  const counts = new Map<string, number>()
  for (const event of events) if (event.kind === kind) counts.set(event.taskId, (counts.get(event.taskId) ?? 0) + 1)
  return counts
}

/** Whether `taskId` has a `start` event yet. */
export function hasStarted(recordFile: string, taskId: string): boolean {
  return runEvents(recordFile).some((event) => event.kind === 'start' && event.taskId === taskId)
}
