/**
 * The systems under test. Each one starts its own server process(es) and fan-out publisher, and says how the
 * load generator's clients talk to it (`wire`) and which paths its workloads use.
 */
import type { ChildProcess } from 'node:child_process'

import { spawnTs } from '../harness/ipc.js'
import { startServerProcess, type ServerHandle } from '../harness/server-process.js'

export type SystemName = 'switchyard' | 'ws' | 'socketio' | 'django'

/** How a load-generator client frames messages: plain JSON text frames, or Socket.IO (Engine.IO v4) packets. */
export type Wire = 'json' | 'socketio'

/** The environment every child of one run gets: BENCH_REDIS_URL, BENCH_PREFIX, BENCH_GROUP. */
export type RunEnv = Readonly<Record<string, string>>

export interface SystemUnderTest {
  readonly name: SystemName
  /** Shown in the table. */
  readonly label: string
  readonly wire: Wire
  /** Starts one server process; several may run at once (cross-process fan-out) with the same env. */
  start(env: RunEnv): Promise<ServerHandle>
  /**
   * Starts the fan-out publisher, a process apart from the servers, speaking the IPC protocol of publisher.ts:
   * sends `ready`; on `publish` ({ messages, intervalMs }) sends that many broadcasts `{ seq, sentAt }` to the
   * group (back to back when intervalMs is 0, else message i at start + i x intervalMs), then `published`.
   */
  startPublisher(env: RunEnv): ChildProcess
  /** The URL a client opens for echo and for fan-out membership, given a server's `ws://127.0.0.1:<port>`. */
  echoUrl(base: string): string
  fanoutUrl(base: string): string
  /** Whether its process reports V8 heap (Node systems); others report RSS only. */
  readonly reportsHeap: boolean
}

export const PUBLISHER_SCRIPT = new URL('publisher.ts', import.meta.url)

/** A system whose server and publisher are Node scripts of this directory. */
function nodeSystem(name: SystemName, label: string, serverScript: string): SystemUnderTest {
  const script = new URL(serverScript, import.meta.url)
  return {
    name,
    label,
    wire: 'json',
    start: (env) => startServerProcess(script, env),
    startPublisher: (env) => spawnTs(PUBLISHER_SCRIPT, { ...env, BENCH_SYSTEM: name }),
    echoUrl: (base) => `${base}/echo/`,
    fanoutUrl: (base) => `${base}/fanout/`,
    reportsHeap: true,
  }
}

export const SYSTEMS = {
  switchyard: nodeSystem('switchyard', 'Switchyard (Redis layer)', 'switchyard-server.ts'),
  ws: nodeSystem('ws', 'bare ws + Redis pub/sub', 'ws-server.ts'),
} as const satisfies Partial<Record<SystemName, SystemUnderTest>>
