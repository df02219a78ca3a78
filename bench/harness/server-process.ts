/** Runs a system under test in a child process and reads its CPU time and memory. */
import type { ChildProcess } from 'node:child_process'

import { nextMessage, sendTo, stopChild, type IpcMessage } from './ipc.js'
import { spawnChild } from './spawn-child.js'

/** What a server child sends once it listens. */
export interface ServerReady extends IpcMessage {
  readonly kind: 'ready'
  readonly port: number
  readonly pid: number
}

/** A server child's `process.cpuUsage()`, in microseconds. */
export interface ServerCpu extends IpcMessage {
  readonly kind: 'cpu'
  readonly userUs: number
  readonly systemUs: number
}

/** A server child's memory after a full garbage collection. */
export interface ServerMemory extends IpcMessage {
  readonly kind: 'memory'
  readonly heapUsedBytes: number
  readonly rssBytes: number
}

export interface MemoryUsage {
  /** V8 heap in use after a full GC; null for servers that are not Node processes. */
  readonly heapUsedBytes: number | null
  readonly rssBytes: number
}

export interface ServerHandle {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string
  readonly pid: number
  /** Process CPU time (user + system) since the server started, in milliseconds. */
  cpuMs(): Promise<number>
  memory(): Promise<MemoryUsage>
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 30_000

/**
 * Extra node flags for every server process, from BENCH_SERVER_NODE_ARGS: e.g.
 * `BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --only fanout` profiles them.
 */
function serverNodeArgs(): string[] {
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.trim()
  return ['--expose-gc', ...(extra ? extra.split(/\s+/) : [])]
}

/** Starts `script` (a server that sends `ready` and answers `cpu`) with `env`; rejects if it does not listen. */
export async function startServerProcess(script: URL, env: Readonly<Record<string, string>>): Promise<ServerHandle> {
  const child: ChildProcess = spawnChild(script, env, serverNodeArgs())
  let ready: ServerReady
  try {
    ready = await nextMessage<ServerReady>(child, 'ready', START_TIMEOUT_MS)
  } catch (error) {
    await stopChild(child)
    throw error
  }
  return {
    url: `ws://127.0.0.1:${ready.port}`,
    pid: ready.pid,
    cpuMs: async () => {
      const reply = nextMessage<ServerCpu>(child, 'cpu', 5_000)
      await sendTo(child, { kind: 'cpu' })
      const { userUs, systemUs } = await reply
      return (userUs + systemUs) / 1000
    },
    memory: async () => {
      const reply = nextMessage<ServerMemory>(child, 'memory', 30_000)
      await sendTo(child, { kind: 'memory' })
      const { heapUsedBytes, rssBytes } = await reply
      return { heapUsedBytes, rssBytes }
    },
    stop: () => stopChild(child),
  }
}
