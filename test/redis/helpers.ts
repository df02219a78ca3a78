import { info } from '../support/redis-info.js'
import { sleep, waitFor } from '../support/wait.js'

export { info, sleep, waitFor }
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'

import { Redis } from 'ioredis'
import { afterAll, beforeAll, inject } from 'vitest'

import { findOnPath, freeLoopbackPort, startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'

/** A fixed-length key prefix of its own for each test (13 characters), so cleanup never reaches other keys. */
export function uniquePrefix(): string {
  return `r${randomBytes(6).toString('hex')}`
}

/** The redis-server binary: the provisioned one, or PATH's when REDIS_URL came from the environment. */
export function redisServerBin(): string {
  const bin = inject('redisServerBin') || findOnPath('redis-server')
  if (bin === undefined) throw new Error('these tests start their own redis-server, and none is on PATH')
  return bin
}

/**
 * Plain ioredis clients for looking at what the layer wrote; never retrying, so a dead server fails fast.
 * `closeAll()` in afterAll/afterEach.
 */
export class RawClients {
  private readonly open: Redis[] = []

  connect(url: string): Redis {
    const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => undefined)
    this.open.push(client)
    return client
  }

  closeAll(): void {
    for (const client of this.open.splice(0)) client.disconnect()
  }
}

/** Private redis-servers for one describe block, as `hosts` shards: read them in tests (they start in beforeAll). */
export interface ShardServers {
  /** Their URLs, in `hosts` order. */
  urls(): string[]
  /** A plain client per server, in the same order. */
  clients(): Redis[]
}

/** Starts `count` private redis-servers in the calling describe block's beforeAll, and stops them in its afterAll. */
export function useShardServers(count: number): ShardServers {
  const servers: RunningRedis[] = []
  const raw = new RawClients()
  let clients: Redis[] = []
  beforeAll(async () => {
    const bin = redisServerBin()
    for (let i = 0; i < count; i++) servers.push(await startPrivateRedis(bin))
    clients = servers.map((server) => raw.connect(server.url))
  })
  afterAll(async () => {
    raw.closeAll()
    await Promise.all(servers.map((server) => server.stop()))
  })
  return {
    urls: () => {
      if (servers.length !== count) throw new Error('the shards are not running')
      return servers.map((server) => server.url)
    },
    clients: () => clients,
  }
}

export interface RunningSentinel {
  readonly port: number
  stop(): Promise<void>
}

/**
 * One Redis Sentinel (`redis-server <conf> --sentinel`) monitoring `127.0.0.1:<masterPort>` as `name` with a
 * quorum of 1. Its configuration lives in a temporary directory because Sentinel rewrites it.
 */
export async function startSentinel(bin: string, masterPort: number, name = 'mymaster'): Promise<RunningSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'swy-sentinel-'))
  const port = await freeLoopbackPort()
  const conf = join(dir, 'sentinel.conf')
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'sentinel resolve-hostnames no',
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
      `sentinel down-after-milliseconds ${name} 5000`,
      '',
    ].join('\n'),
  )
  const child = spawn(bin, [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8_192)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve()
    }),
  )
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
      process.off('exit', killOnExit)
      await rm(dir, { recursive: true, force: true })
    })()
    return stopping
  }
  const probe = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => undefined)
  try {
    await waitFor(
      `the sentinel on port ${port} to know ${name}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`sentinel exited with ${child.exitCode}:\n${output}`)
        try {
          if (probe.status !== 'ready') await probe.connect()
          const address = (await probe.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null
          return address?.[1] === String(masterPort)
        } catch {
          return false
        }
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    )
  } catch (error) {
    await stop()
    throw error
  } finally {
    probe.disconnect()
  }
  return { port, stop }
}

/**
 * Starts a fixture script (`--import tsx`) in its own Node process and resolves once it prints `ready <json>`, with
 * the `channels` of that JSON; rejects with its output if it exits or takes longer than 15 s.
 */
export async function startReadyFixture(
  fixture: string,
  args: readonly string[],
): Promise<{ readonly child: ChildProcessByStdio<null, Readable, Readable>; readonly channels: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const channels = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the fixture did not get ready:\n${output}`))
    }, 15_000)
    child.once('exit', (code) => {
      reject(new Error(`the fixture exited with ${String(code)}:\n${output}`))
    })
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const line = /^ready (.*)$/m.exec(output)?.[1]
      if (line === undefined) return
      clearTimeout(timer)
      resolve((JSON.parse(line) as { channels: string[] }).channels)
    })
  })
  return { child, channels }
}

/** SIGKILLs a fixture process (as a crash would end it) unless it already exited; resolves once it has. */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}
