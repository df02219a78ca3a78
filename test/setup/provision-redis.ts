import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

import { aptInstall } from './apt.js'

export const APT_INSTALL_COMMAND = 'apt-get install -y redis-server'

export type RedisPlan =
  | { kind: 'url'; url: string }
  | { kind: 'binary'; path: string }
  | { kind: 'install'; command: typeof APT_INSTALL_COMMAND }
  | { kind: 'fail'; message: string }

export interface PlanRedisInput {
  env: Readonly<Record<string, string | undefined>>
  findBinary: (name: string) => string | undefined
  isRoot: boolean
}

/** Decides how the test run gets a Redis; kept pure so every branch is unit-testable without touching the machine. */
export function planRedis({ env, findBinary, isRoot }: PlanRedisInput): RedisPlan {
  const url = env.REDIS_URL?.trim()
  if (url) return { kind: 'url', url }
  const path = findBinary('redis-server')
  if (path !== undefined) return { kind: 'binary', path }
  if (isRoot) return { kind: 'install', command: APT_INSTALL_COMMAND }
  return {
    kind: 'fail',
    message:
      'The tests need a Redis server, and redis-server is not on PATH. ' +
      `Install it with \`sudo ${APT_INSTALL_COMMAND}\`, ` +
      'or set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379) to use a Redis you already run.',
  }
}

export function isRunningAsRoot(): boolean {
  return process.getuid?.() === 0
}

export function findOnPath(name: string, pathVar: string | undefined = process.env.PATH): string | undefined {
  // Debian puts some daemons in sbin, which a non-login root shell may not have on PATH.
  const dirs = [...(pathVar ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      if (!statSync(candidate).isFile()) continue
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined
}

export async function installRedisWithApt(): Promise<void> {
  try {
    await aptInstall(['redis-server'])
  } catch (cause) {
    throw new Error(
      `Installing Redis failed. Run \`${APT_INSTALL_COMMAND}\` yourself, or set REDIS_URL to a Redis you already run.`,
      { cause },
    )
  }
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error('could not read the port of a loopback listener'))
        return
      }
      const { port } = address
      server.close(() => {
        resolve(port)
      })
    })
  })
}

/**
 * Sends one command over a bare socket and returns the first reply (simple string, integer, error or bulk string).
 * Raw RESP rather than ioredis so probing never retries or queues behind our back.
 */
export function rawCommand(port: number, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let buffer = Buffer.alloc(0)
    const finish = (error: Error | undefined, value?: string): void => {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(value ?? '')
    }
    const timer = setTimeout(() => {
      finish(new Error(`no reply from 127.0.0.1:${port} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('error', (error) => {
      finish(error)
    })
    socket.once('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    })
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const lineEnd = buffer.indexOf('\r\n')
      if (lineEnd === -1) return
      const line = buffer.subarray(0, lineEnd).toString()
      const prefix = line[0]
      if (prefix === '+' || prefix === ':') finish(undefined, line.slice(1))
      else if (prefix === '-') finish(new Error(`redis replied ${line.slice(1)}`))
      else if (prefix === '$') {
        const length = Number(line.slice(1))
        const start = lineEnd + 2
        if (buffer.length >= start + length) finish(undefined, buffer.subarray(start, start + length).toString())
      } else finish(new Error(`unexpected reply from 127.0.0.1:${port}: ${JSON.stringify(line)}`))
    })
  })
}

export interface RunningRedis {
  url: string
  port: number
  pid: number
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Safe to call more than once. */
  stop(): Promise<void>
}

export interface StartRedisOptions {
  bin: string
  /** A fixed port gets one attempt (a restart test wants that exact port back); without one, a free port is picked and retried. */
  port?: number
  /** Extra redis-server arguments, e.g. `['--replicaof', '127.0.0.1', '6380']`. */
  extraArgs?: readonly string[]
  startupTimeoutMs?: number
}

const MAX_ATTEMPTS = 3
const OUTPUT_TAIL_BYTES = 8 * 1024

export class RedisStartError extends Error {
  constructor(
    message: string,
    /** False when the binary could not even be spawned: another port will not help. */
    readonly retryable: boolean,
    options: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'RedisStartError'
  }
}

export async function startRedisServer(options: StartRedisOptions): Promise<RunningRedis> {
  const attempts = options.port === undefined ? MAX_ATTEMPTS : 1
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort())
    try {
      return await startOnce(options, port)
    } catch (error) {
      // The port was free a moment ago but anything may grab it before redis binds; a new one usually works.
      if (attempt >= attempts || !(error instanceof RedisStartError) || !error.retryable) throw error
    }
  }
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => {
      resolve()
    })
  })
}

async function startOnce(options: StartRedisOptions, port: number): Promise<RunningRedis> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    ...(options.extraArgs ?? []),
  ]
  // cwd in tmp so that nothing redis might write (e.g. a config rewrite) lands in the repo.
  const child = spawn(options.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() })
  let output = ''
  const keepTail = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES)
  }
  child.stdout.on('data', keepTail)
  child.stderr.on('data', keepTail)

  // A crashed or killed test runner must not leave a redis-server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const exited = waitForExit(child)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
      process.off('exit', killOnExit)
    })()
    return stopping
  }

  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      reject(new Error(`redis-server exited during startup (${signal ?? `code ${String(code)}`})`))
    })
  })
  // The normal exit at stop() still rejects this long after startup; nobody listens then.
  spawnError.catch(() => undefined)

  try {
    await Promise.race([spawnError, waitUntilOurs(port, child, options.startupTimeoutMs ?? 10_000)])
  } catch (error) {
    await stop()
    const message = error instanceof Error ? error.message : String(error)
    throw new RedisStartError(
      `redis-server (${options.bin}) on 127.0.0.1:${port} failed to start: ${message}` +
        (output ? `\n--- redis-server output ---\n${output}` : ''),
      child.pid !== undefined,
      { cause: error },
    )
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid ?? -1, stop }
}

/** PING until it answers, then check the answering server is our child and not something that grabbed the port first. */
async function waitUntilOurs(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break
    try {
      const pong = await rawCommand(port, ['PING'], 1_000)
      if (pong !== 'PONG') throw new Error(`PING answered ${JSON.stringify(pong)}`)
      const info = await rawCommand(port, ['INFO', 'server'], 1_000)
      const pid = /^process_id:(\d+)/m.exec(info)?.[1]
      if (pid !== String(child.pid)) throw new Error(`port ${port} is served by another process (pid ${pid ?? '?'})`)
      return
    } catch (error) {
      lastError = error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  throw new Error(`no PONG within ${timeoutMs} ms`, { cause: lastError })
}

/**
 * Starts an extra redis-server owned by the calling test (restart, replica, sentinel or shard scenarios).
 * Pass `inject('redisServerBin')`; when that is '' (REDIS_URL came from the env) the binary is looked up on PATH.
 */
export async function startPrivateRedis(
  bin: string,
  options: Omit<StartRedisOptions, 'bin'> = {},
): Promise<RunningRedis> {
  const resolved = bin || findOnPath('redis-server')
  if (!resolved) {
    throw new Error(
      `A private redis-server is needed but none is on PATH. Install it with \`sudo ${APT_INSTALL_COMMAND}\`.`,
    )
  }
  return startRedisServer({ ...options, bin: resolved })
}
