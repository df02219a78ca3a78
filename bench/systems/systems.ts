/**
 * The systems under test. Each one starts its own server process(es) and fan-out publisher, and says how the
 * load generator's clients talk to it (`wire`) and which paths its workloads use.
 */
import type { ChildProcess } from 'node:child_process'

import { spawnChild } from '../harness/spawn-child.js'
import { startServerProcess, type ServerHandle } from '../harness/server-process.js'
import { startDjangoServer } from './django-server.js'

export type SystemName = 'switchyard' | 'ws' | 'socketio' | 'django'

/**
 * A system run with other settings by one workload only, never by `--systems`: `--only history` runs
 * `switchyard-history`, `--only servers` runs `switchyard-cluster` beside `switchyard`.
 */
export type VariantName = 'switchyard-history' | 'switchyard-cluster'

/** How a load-generator client frames messages: plain JSON text frames, or Socket.IO (Engine.IO v4) packets. */
export type Wire = 'json' | 'socketio'

/** The environment every child of one run gets: BENCH_REDIS_URL, BENCH_PREFIX, BENCH_GROUP. */
export type RunEnv = Readonly<Record<string, string>>

export interface SystemUnderTest {
  readonly name: SystemName | VariantName
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
  /** The redis-server processes it talks to, when not the run's own Redis (their CPU time is reported). */
  readonly redisPids?: readonly number[]
}

export const PUBLISHER_SCRIPT = new URL('publisher.ts', import.meta.url)

/** The publisher process of `name`: publisher.ts, broadcasting as that system's users would. */
function startPublisher(name: SystemName | VariantName, env: RunEnv): ChildProcess {
  return spawnChild(PUBLISHER_SCRIPT, { ...env, BENCH_SYSTEM: name })
}

/** A system whose server is a Node script of this directory, serving JSON at `/echo/` and `/fanout/`. */
function nodeSystem(name: SystemName | VariantName, label: string, serverScript: string): SystemUnderTest {
  const script = new URL(serverScript, import.meta.url)
  return {
    name,
    label,
    wire: 'json',
    start: (env) => startServerProcess(script, env),
    startPublisher: (env) => startPublisher(name, env),
    echoUrl: (base) => `${base}/echo/`,
    fanoutUrl: (base) => `${base}/fanout/`,
    reportsHeap: true,
  }
}

/** Engine.IO's WebSocket endpoint, opened at once (no long-polling first) as `transports: ['websocket']` clients do. */
const SOCKET_IO_PATH = '/socket.io/?EIO=4&transport=websocket'

const socketIo: SystemUnderTest = {
  ...nodeSystem('socketio', 'Socket.IO 4.8 + Redis adapter', 'socketio-server.ts'),
  wire: 'socketio',
  echoUrl: (base) => `${base}${SOCKET_IO_PATH}`,
  // socketio-server.ts puts sockets with this query in the fan-out room.
  fanoutUrl: (base) => `${base}${SOCKET_IO_PATH}&role=fanout`,
}

const django: SystemUnderTest = {
  name: 'django',
  label: 'Django Channels 4 (daphne + channels_redis)',
  wire: 'json',
  start: (env) => startDjangoServer(env),
  startPublisher: (env) => startPublisher('django', env),
  echoUrl: (base) => `${base}/echo/`,
  fanoutUrl: (base) => `${base}/fanout/`,
  reportsHeap: false,
}

export const SYSTEMS = {
  switchyard: nodeSystem('switchyard', 'Switchyard (Redis layer)', 'switchyard-server.ts'),
  socketio: socketIo,
  django,
  ws: nodeSystem('ws', 'bare ws + Redis pub/sub', 'ws-server.ts'),
} as const satisfies Record<SystemName, SystemUnderTest>

/** Messages the history variant's group keeps: the example (`{ size: 100, ttlMs: 300_000 }`). */
export const BENCH_HISTORY_SIZE = 100

/**
 * Switchyard with the fan-out group keeping a history of BENCH_HISTORY_SIZE messages, in the server and in the
 * publisher (env.ts `historyOption`): every broadcast is sequenced and kept by history-send.lua, and every
 * member forwards its `__position__`. Compared with `switchyard` by `--only history`.
 */
export const SWITCHYARD_HISTORY: SystemUnderTest = (() => {
  const base = nodeSystem('switchyard-history', 'Switchyard (Redis layer, history on)', 'switchyard-server.ts')
  const withHistory = (env: RunEnv): RunEnv => ({ ...env, BENCH_HISTORY_SIZE: String(BENCH_HISTORY_SIZE) })
  return {
    ...base,
    start: (env) => base.start(withHistory(env)),
    startPublisher: (env) => base.startPublisher(withHistory(env)),
  }
})()

/** The Redis Cluster `switchyard-cluster` runs on: its nodes' URLs and redis-server pids. */
export interface BenchCluster {
  readonly urls: readonly string[]
  readonly pids: readonly number[]
}

/**
 * Switchyard with every layer, in the servers and in the publisher, on `cluster` (issue 18): keys cut into hash-tag
 * shards spread over the masters, a group send delivered shard by shard. Compared with `switchyard` on one Redis by
 * `--only servers`; its Redis CPU is the cluster's, every node's.
 */
export function switchyardOnCluster(cluster: BenchCluster): SystemUnderTest {
  const base = nodeSystem('switchyard-cluster', 'Switchyard (Redis Cluster layer)', 'switchyard-server.ts')
  const onCluster = (env: RunEnv): RunEnv => ({ ...env, BENCH_CLUSTER_URLS: cluster.urls.join(',') })
  return {
    ...base,
    start: (env) => base.start(onCluster(env)),
    startPublisher: (env) => base.startPublisher(onCluster(env)),
    redisPids: cluster.pids,
  }
}
