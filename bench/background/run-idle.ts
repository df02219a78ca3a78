// The idle-workers workload of issue 13: what RetryingConsumer channels with nothing to do cost Redis. Worker
// processes (idle-worker.ts: runWorker, default settings) serve `channels` channels between them; once they have
// settled (claim backoff at its ceiling, first registry reports and stalled checks done), every command that
// reaches Redis in the window is counted: claim polls, renewals, registry reports, stalled checks, the layer's
// own timers. A script call counts once (see bench/harness/redis-commands.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

import { SCRIPTS } from '../../src/layers/redis/lua-script.js'
import { countRedisCommands, type CommandCalls } from '../harness/redis-commands.js'
import { split } from '../harness/stats.js'
import { IDLE_CONFIG_ENV, isChildMessage, type IdleWorkerConfig, type ParentMessage } from './protocol.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = join(HERE, '..', '..')
const STOP_TIMEOUT_MS = 15_000

export interface IdleOptions {
  /** A redis-server nobody else uses meanwhile: every command in the window is counted. */
  readonly redisUrl: string
  readonly channels: number
  /** Worker processes the channels are spread over. */
  readonly processes: number
  /** From `start` to the window, so start-up commands (first polls, reports, stalled checks) stay out of it. */
  readonly settleMs: number
  readonly windowMs: number
}

export interface IdleResult {
  readonly channels: number
  readonly processes: number
  readonly windowMs: number
  readonly commands: number
  readonly commandsPerSecond: number
  readonly commandsPerChannelPerSecond: number
  /** Commands run inside the scripts called, per second (not in `commandsPerSecond`). */
  readonly scriptCommandsPerSecond: number
  /** The window's commands by name, script calls by script (`evalsha task-settle`), most called first. */
  readonly byCommand: readonly CommandCalls[]
}

interface IdleChild {
  readonly process: ChildProcess
  readonly ready: Promise<void>
  readonly exited: Promise<void>
}

export async function runIdleWorkersBench(options: IdleOptions): Promise<IdleResult> {
  const prefix = `benchidle${randomBytes(4).toString('hex')}`
  const names = Array.from({ length: options.channels }, (_, i) => `idle.tasks${i}`)
  const children: IdleChild[] = []
  try {
    let from = 0
    for (const count of split(options.channels, options.processes)) {
      const channels = names.slice(from, (from += count))
      children.push(spawnIdleWorker({ redisUrl: options.redisUrl, prefix, channels }))
    }
    await Promise.all(children.map((child) => child.ready))
    for (const child of children) send(child.process, { kind: 'start' })
    await delay(options.settleMs)
    const scriptNames = new Map(Object.values(SCRIPTS).map((script) => [script.sha, script.name]))
    const count = await countRedisCommands(options.redisUrl, () => delay(options.windowMs), scriptNames)
    for (const child of children) send(child.process, { kind: 'stop' })
    await within(STOP_TIMEOUT_MS, 'idle workers stopping', Promise.all(children.map((child) => child.exited)))
    const perSecond = (n: number): number => (n * 1_000) / count.windowMs
    return {
      channels: options.channels,
      processes: options.processes,
      windowMs: count.windowMs,
      commands: count.total,
      commandsPerSecond: perSecond(count.total),
      commandsPerChannelPerSecond: perSecond(count.total) / options.channels,
      scriptCommandsPerSecond: perSecond(count.scriptCommands),
      byCommand: count.byCommand,
    }
  } finally {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL')
    }
  }
}

function spawnIdleWorker(config: IdleWorkerConfig): IdleChild {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'idle-worker.ts')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [IDLE_CONFIG_ENV]: JSON.stringify(config) },
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
  const died = exited.then(() => {
    throw new Error(`idle worker ${String(child.pid)} exited early (code ${String(child.exitCode)})`)
  })
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: unknown) => {
      if (isChildMessage(message) && message.kind === 'ready') resolve()
    })
  })
  const readyOrDied = Promise.race([ready, died])
  died.catch(() => undefined)
  return { process: child, ready: readyOrDied, exited }
}

/** `promise`, or a rejection naming `what` after `ms` (the timer cleared either way, so it holds no process up). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: not done within ${ms} ms`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function send(child: ChildProcess, message: ParentMessage): void {
  child.send(message)
}
