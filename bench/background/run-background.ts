// The background workload of issue 8: `messages` tasks through 1 or 2 worker processes at equal concurrency,
// on Switchyard (RetryingConsumer on the Redis layer) or BullMQ, with retries on and optionally ~10 % of tasks
// failing their first attempt. Enqueue is timed on its own; throughput is measured from the moment the workers
// are told to start consuming (the queue already full) to the last successful handler, and CPU per message is
// the worker processes' CPU time between start and stop over `messages`.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { Queue } from 'bullmq'
import { Redis } from 'ioredis'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { nowMs } from '../harness/ipc.js'
import {
  CONFIG_ENV,
  isChildMessage,
  type BenchSystem,
  type ChildMessage,
  type ParentMessage,
  type WorkerConfig,
} from './protocol.js'
import { bullConnection } from './redis-url.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = join(HERE, '..', '..')
const QUEUE = 'bench.jobs'
const ENQUEUE_CHUNK = 1_000

export interface BackgroundOptions {
  readonly system: BenchSystem
  readonly redisUrl: string
  readonly workers: 1 | 2
  readonly messages?: number
  /** Tasks handled at once per worker process. */
  readonly concurrency?: number
  /** Share of tasks whose first attempt throws (each then succeeds on its retry). */
  readonly failRate?: 0 | 0.1
  /** Give up waiting for completions after this long. */
  readonly timeoutMs?: number
}

export interface BackgroundResult {
  readonly system: BenchSystem
  readonly workers: number
  readonly concurrency: number
  readonly failRate: number
  readonly messages: number
  readonly enqueueMs: number
  readonly enqueuePerSecond: number
  /** From `start` sent to the workers to the last successful handler. */
  readonly consumeMs: number
  readonly messagesPerSecond: number
  /** Handler runs, failed ones included. */
  readonly attempts: number
  /** Successful handler runs reported (at-least-once: may exceed distinct). */
  readonly completions: number
  readonly distinct: number
  readonly lost: number
  readonly duplicates: number
  /** Tasks still queued, running, delayed or failed in Redis after the workers stopped. */
  readonly leftInRedis: number
  /** Sum over worker processes of user + system CPU between start and stop. */
  readonly workerCpuMs: number
  readonly workerCpuUsPerMessage: number
  /** redis-server's own CPU over the consumption phase (INFO cpu), when measurable. */
  readonly redisCpuUsPerMessage: number
  readonly ok: boolean
}

interface ChildState {
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly stats: Promise<Extract<ChildMessage, { kind: 'stats' }>>
  readonly exited: Promise<void>
}

/** Runs one system once; the run's keys get their own prefix and are deleted afterwards. */
export async function runBackgroundBench(options: BackgroundOptions): Promise<BackgroundResult> {
  const messages = options.messages ?? 20_000
  const concurrency = options.concurrency ?? 16
  const failRate = options.failRate ?? 0
  const timeoutMs = options.timeoutMs ?? 300_000
  const prefix = `bench${options.system === 'switchyard' ? 'sy' : 'bq'}${randomBytes(5).toString('hex')}`
  const config: WorkerConfig = {
    redisUrl: options.redisUrl,
    prefix,
    queue: QUEUE,
    concurrency,
    failRate,
    capacity: messages * 2,
  }

  const admin = new Redis(options.redisUrl)
  const counts = new Map<number, number>()
  let completions = 0
  let lastAt = 0
  let onProgress: (() => void) | undefined
  const children: ChildState[] = []
  try {
    for (let i = 0; i < options.workers; i++) {
      children.push(
        spawnWorker(options.system, config, (message) => {
          if (message.kind !== 'done') return
          for (const n of message.ns) counts.set(n, (counts.get(n) ?? 0) + 1)
          completions += message.ns.length
          lastAt = Math.max(lastAt, message.lastAt)
          onProgress?.()
        }),
      )
    }
    await Promise.all(children.map((child) => child.ready))

    const producer = options.system === 'switchyard' ? switchyardProducer(config) : bullProducer(config)
    const enqueueStart = nowMs()
    try {
      for (let from = 0; from < messages; from += ENQUEUE_CHUNK) {
        const ns = Array.from({ length: Math.min(ENQUEUE_CHUNK, messages - from) }, (_, i) => from + i)
        await producer.enqueue(ns)
      }
    } finally {
      await producer.close()
    }
    const enqueueMs = nowMs() - enqueueStart

    const redisCpuBefore = await redisCpuMs(admin)
    const startedAt = nowMs()
    for (const child of children) sendTo(child.process, { kind: 'start' })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${options.system}: ${counts.size} of ${messages} tasks completed within ${timeoutMs} ms`))
      }, timeoutMs)
      onProgress = () => {
        if (counts.size < messages) return
        clearTimeout(timer)
        resolve()
      }
      onProgress()
    })
    const redisCpuAfter = await redisCpuMs(admin)

    for (const child of children) sendTo(child.process, { kind: 'stop' })
    const stats = await Promise.all(children.map((child) => child.stats))
    await Promise.all(children.map((child) => child.exited))
    const leftInRedis = options.system === 'switchyard' ? await switchyardLeft(admin, config) : await bullLeft(config)

    const consumeMs = lastAt - startedAt
    const workerCpuUs = stats.reduce((sum, s) => sum + s.cpuUserUs + s.cpuSystemUs, 0)
    const distinct = counts.size
    const inRange = [...counts.keys()].every((n) => Number.isInteger(n) && n >= 0 && n < messages)
    return {
      system: options.system,
      workers: options.workers,
      concurrency,
      failRate,
      messages,
      enqueueMs,
      enqueuePerSecond: (messages / enqueueMs) * 1_000,
      consumeMs,
      messagesPerSecond: (messages / consumeMs) * 1_000,
      attempts: stats.reduce((sum, s) => sum + s.attempts, 0),
      completions,
      distinct,
      lost: messages - distinct,
      duplicates: completions - distinct,
      leftInRedis,
      workerCpuMs: workerCpuUs / 1_000,
      workerCpuUsPerMessage: workerCpuUs / messages,
      redisCpuUsPerMessage: ((redisCpuAfter - redisCpuBefore) * 1_000) / messages,
      // Nothing crashes here, so at-least-once should still mean exactly once: a duplicate fails the check too.
      ok: inRange && distinct === messages && completions === messages && leftInRedis === 0,
    }
  } finally {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
    }
    await deleteKeys(admin, prefix)
    admin.disconnect()
  }
}

function spawnWorker(
  system: BenchSystem,
  config: WorkerConfig,
  onMessage: (message: ChildMessage) => void,
): ChildState {
  const file = join(HERE, system === 'switchyard' ? 'switchyard-worker.ts' : 'bullmq-worker.ts')
  const child = spawn(process.execPath, [...workerNodeArgs(), '--import', 'tsx', file], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
  const died = exited.then(() => {
    throw new Error(`${system} worker ${String(child.pid)} exited early (code ${String(child.exitCode)})`)
  })
  died.catch(() => undefined)
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: unknown) => {
      if (isChildMessage(message) && message.kind === 'ready') resolve()
    })
  })
  const stats = new Promise<Extract<ChildMessage, { kind: 'stats' }>>((resolve) => {
    child.on('message', (message: unknown) => {
      if (!isChildMessage(message)) return
      if (message.kind === 'stats') resolve(message)
      else onMessage(message)
    })
  })
  return { process: child, ready: Promise.race([ready, died]), stats: Promise.race([stats, died]), exited }
}

/**
 * Extra node flags for the worker children, from BENCH_WORKER_NODE_ARGS (space-separated), to profile them:
 * `BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/bgprof"`.
 */
function workerNodeArgs(): string[] {
  return (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')
}

function sendTo(child: ChildProcess, message: ParentMessage): void {
  child.send(message)
}

interface Producer {
  enqueue(ns: readonly number[]): Promise<void>
  close(): Promise<void>
}

function switchyardProducer(config: WorkerConfig): Producer {
  const layer = new RedisChannelLayer({ hosts: [config.redisUrl], prefix: config.prefix, capacity: config.capacity })
  return {
    async enqueue(ns) {
      await Promise.all(
        ns.map((n) => layer.send(config.queue, { type: 'job.run', n, idempotencyKey: `${config.prefix}-${n}` })),
      )
    },
    close: () => layer.close(),
  }
}

function bullProducer(config: WorkerConfig): Producer {
  const queue = new Queue(config.queue, { connection: bullConnection(config.redisUrl), prefix: config.prefix })
  return {
    async enqueue(ns) {
      await queue.addBulk(
        ns.map((n) => ({
          name: 'job.run',
          data: { n },
          opts: { jobId: `${config.prefix}-${n}`, attempts: 3, backoff: { type: 'fixed', delay: 10 } },
        })),
      )
    },
    close: () => queue.close(),
  }
}

async function switchyardLeft(admin: Redis, config: WorkerConfig): Promise<number> {
  const keys = [
    `${config.prefix}${config.queue}`,
    `${config.prefix}:switchyard:inflight:${config.queue}`,
    `${config.prefix}:switchyard:delayed:${config.queue}`,
    `${config.prefix}:switchyard:dead:${config.queue}`,
  ]
  const sizes = await Promise.all(keys.map((key) => admin.zcard(key)))
  return sizes.reduce((sum, size) => sum + size, 0)
}

async function bullLeft(config: WorkerConfig): Promise<number> {
  const queue = new Queue(config.queue, { connection: bullConnection(config.redisUrl), prefix: config.prefix })
  try {
    const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'failed')
    return Object.values(counts).reduce((sum, count) => sum + count, 0)
  } finally {
    await queue.close()
  }
}

/** redis-server's user + system CPU so far, ms. */
async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu')
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 'NaN')
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1_000
}

async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000)
    cursor = next
    if (keys.length > 0) await admin.unlink(...keys)
  } while (cursor !== '0')
}
