import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'

import { Redis } from 'ioredis'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { WorkerHandle } from '../../src/worker/worker.js'

/** A fixed-length key prefix of its own for each test, so cleanup never reaches other keys. */
export function uniquePrefix(): string {
  return `w${randomBytes(6).toString('hex')}`
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it holds; returns how long that took, or throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 5_000, intervalMs = 20 } = {},
): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/**
 * What a test opened, closed in `afterEach` by `closeAll()`: workers stopped, child processes SIGKILLed, layers
 * flushed (their prefix only) and closed, plain clients disconnected.
 */
export class Resources {
  private readonly workers: WorkerHandle[] = []
  private readonly layers: RedisChannelLayer[] = []
  private readonly clients: Redis[] = []
  private readonly children: ChildProcess[] = []

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
  }
}

export interface WorkerProcessEnv {
  readonly REDIS_URL: string
  readonly SWY_PREFIX: string
  readonly TASK_MS: number
  readonly VISIBILITY_MS: number
  readonly CONCURRENCY: number
  readonly GRACE_MS: number
  readonly HONOUR_SIGNAL: boolean
}

export interface WorkerProcess {
  readonly child: ChildProcess
  /** Resolves once the worker printed `ready`. */
  readonly ready: Promise<void>
  /** Resolves with the exit code and signal when the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Its stdout and stderr so far (for failure messages). */
  output(): string
}

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url))

/** Starts `fixtures/worker-process.ts` in a child process (registered with `resources` for cleanup). */
export function spawnWorkerProcess(resources: Resources, config: WorkerProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(config).map(([key, value]) => [key, String(value)])),
      HONOUR_SIGNAL: config.HONOUR_SIGNAL ? '1' : '0',
    },
  })
  resources.child(child)
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('ready\n')) resolve()
    })
    child.once('exit', () => {
      reject(new Error(`worker process exited before it was ready:\n${output}`))
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
export async function runEvents(redis: Redis, prefix: string): Promise<RunEvent[]> {
  return (await redis.lrange(`${prefix}:events`, 0, -1)).map((line): RunEvent => {
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
