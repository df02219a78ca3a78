/**
 * `npm run bench [-- --quick] [-- --only echo,fanout,paced,servers,memory,redis,background,idle,history,presence]
 * [-- --systems ...]
 * [-- --clients 200,1000] [-- --connections 10000]`:
 * builds the package, starts a private redis-server, runs every workload against every system (each in its own
 * processes, as plain JavaScript under node: Switchyard is the built package in dist/, see harness/spawn-child.ts),
 * `servers` also on a private Redis Cluster for Switchyard (`switchyard-cluster`, when `switchyard` is among them),
 * prints the tables and the targets, and writes JSON and an SVG chart under bench/results/.
 */
import { availableParallelism, cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { LoadGenerators } from './harness/load-generators.js'
import { startBenchRedis } from './harness/redis.js'
import { startBenchCluster, type RunningBenchCluster } from './harness/redis-cluster.js'
import { formatReport, writeReport } from './harness/report.js'
import { repeated } from './harness/repeated.js'
import { emptyResults } from './harness/result.js'
import { checkTargets } from './harness/targets.js'
import { collectVersions } from './harness/versions.js'
import { SYSTEMS, switchyardOnCluster, type SystemUnderTest } from './systems/systems.js'
import { runBackground, type BackgroundParams } from './workloads/background.js'
import type { BenchContext } from './workloads/context.js'
import { runEcho, type EchoParams } from './workloads/echo.js'
import { runFanout, type FanoutParams } from './workloads/fanout.js'
import { runHistory, type HistoryParams } from './workloads/history.js'
import { runIdleMemory } from './workloads/idle-memory.js'
import { runIdleWorkers, type IdleWorkersParams } from './workloads/idle-workers.js'
import { runPresence, type PresenceParams } from './workloads/presence.js'
import { runRedisCost } from './workloads/redis-cost.js'

const RESULTS_DIR = fileURLToPath(new URL('results/', import.meta.url))
const WORKLOADS = [
  'echo',
  'fanout',
  'paced',
  'servers',
  'memory',
  'redis',
  'background',
  'idle',
  'history',
  'presence',
] as const
type WorkloadName = (typeof WORKLOADS)[number]

interface Plan {
  /** Runs of echo and of the first fan-out size, interleaved across systems; each row is their median. */
  readonly repeats: number
  readonly echo: EchoParams
  readonly fanout: readonly FanoutParams[]
  readonly paced: FanoutParams
  readonly servers: FanoutParams
  readonly idleConnections: number
  readonly redisMembers: readonly number[]
  readonly background: BackgroundParams
  readonly idleWorkers: IdleWorkersParams
  readonly history: HistoryParams
  readonly presence: PresenceParams
}

const FULL: Plan = {
  repeats: 3,
  echo: { connections: 50, roundTrips: 200 },
  // About 40 000-100 000 deliveries each: long enough to measure, short enough for the whole run to fit 15 min.
  fanout: [
    { clients: 200, messages: 200 },
    { clients: 1_000, messages: 100 },
    { clients: 5_000, messages: 20 },
  ],
  // 200 clients x 10 broadcasts/s = 2 000 deliveries/s for 10 s, after 40 s of it unmeasured (see fanout.ts).
  paced: { clients: 200, messages: 100, intervalMs: 100, warmupMessages: 400 },
  servers: { clients: 600, messages: 100, servers: 3 },
  idleConnections: 10_000,
  redisMembers: [10, 1_000, 10_000],
  background: { messages: 20_000, concurrency: 16 },
  // Renewal, registry report and stalled check tick every visibilityMs / 3 (10 s by default) from start: settled
  // half a tick, the window holds two ticks of every channel, well away from its edges.
  idleWorkers: { channels: 100, processes: 2, settleMs: 5_000, windowMs: 20_000 },
  // Switchyard alone, history off and on in turns: the ratio is the figure, so the first size runs five times.
  history: {
    // Paced too: at a fixed rate both servers batch alike, so per-message work shows apart from burst sizes.
    fanout: [
      { clients: 200, messages: 200 },
      { clients: 1_000, messages: 100 },
      { clients: 200, messages: 100, intervalMs: 100 },
    ],
    repeats: 5,
    memoryGroups: 1_000,
    textBytes: 100,
    recoveries: 200,
  },
  // The size, which is also the default `maxPresence`.
  presence: { members: 10_000, lists: 100 },
}

/** Seconds, not minutes: proves every workload and system runs, measures nothing. */
const QUICK: Plan = {
  repeats: 1,
  echo: { connections: 4, roundTrips: 20 },
  fanout: [{ clients: 20, messages: 10, idleMs: 2_000 }],
  paced: { clients: 20, messages: 10, intervalMs: 50, idleMs: 2_000, warmupMessages: 20 },
  servers: { clients: 30, messages: 10, servers: 3, idleMs: 2_000 },
  idleConnections: 100,
  redisMembers: [10, 100],
  background: { messages: 500, concurrency: 4 },
  idleWorkers: { channels: 100, processes: 2, settleMs: 1_000, windowMs: 2_000 },
  history: {
    fanout: [
      { clients: 20, messages: 10, idleMs: 2_000 },
      { clients: 20, messages: 10, intervalMs: 50, idleMs: 2_000 },
    ],
    repeats: 1,
    memoryGroups: 10,
    textBytes: 100,
    recoveries: 5,
  },
  presence: { members: 100, lists: 5 },
}

function list<T extends string>(option: string, value: string | undefined, allowed: readonly T[]): readonly T[] {
  if (value === undefined) return allowed
  const names = value.split(',').map((name) => name.trim())
  const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name))
  if (unknown.length > 0) throw new Error(`--${option} takes ${allowed.join(', ')}; got ${unknown.join(', ')}`)
  return names as T[]
}

function fanoutSizes(plan: Plan, clients: string | undefined): readonly FanoutParams[] {
  if (clients === undefined) return plan.fanout
  return clients.split(',').map((text) => {
    const n = Number(text)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--clients takes positive integers separated by commas`)
    return plan.fanout.find((p) => p.clients === n) ?? { clients: n, messages: 100 }
  })
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      systems: { type: 'string' },
      clients: { type: 'string' },
      connections: { type: 'string' },
    },
  })
  const plan = values.quick ? QUICK : FULL
  const only = new Set<WorkloadName>(list('only', values.only, WORKLOADS))
  const systemNames = list('systems', values.systems, Object.keys(SYSTEMS) as (keyof typeof SYSTEMS)[])
  const systems: SystemUnderTest[] = systemNames.map((name) => SYSTEMS[name])
  const fanouts = fanoutSizes(plan, values.clients)
  const idleConnections = values.connections === undefined ? plan.idleConnections : Number(values.connections)
  if (!Number.isInteger(idleConnections) || idleConnections <= 0) {
    throw new Error('--connections takes a positive integer (idle connections of --only memory)')
  }

  const startedAt = Date.now()
  const progress = (line: string): void => {
    const elapsed = Math.round((Date.now() - startedAt) / 1000)
    process.stderr.write(
      `[bench ${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}] ${line}\n`,
    )
  }
  progress('starting a private redis-server')
  const redis = await startBenchRedis()
  // Two load generators where there are cores to spare; one on a 2-core box leaves the other core to the server.
  const generators = LoadGenerators.start(availableParallelism() > 2 ? 2 : 1)
  const context: BenchContext = { redisUrl: redis.url, redisPid: redis.pid, generators, progress }
  const results = emptyResults()
  let cluster: RunningBenchCluster | undefined
  try {
    // Workload by workload, every system in turn: the rows compared with each other run minutes apart at most.
    if (only.has('echo')) {
      results.throughput.push(
        ...(await repeated(systems, plan.repeats, (system) => runEcho(context, system, plan.echo))),
      )
    }
    if (only.has('fanout')) {
      for (const [index, params] of fanouts.entries()) {
        const times = index === 0 ? plan.repeats : 1
        results.throughput.push(...(await repeated(systems, times, (system) => runFanout(context, system, params))))
      }
    }
    if (only.has('paced'))
      for (const system of systems) results.throughput.push(await runFanout(context, system, plan.paced))
    if (only.has('servers')) {
      // Issue 18: the same 3 servers with Switchyard's layers on a Redis Cluster, right after its single-Redis row.
      if (systems.includes(SYSTEMS.switchyard)) {
        progress('starting a private Redis Cluster (3 masters, 3 replicas)')
        cluster = await startBenchCluster()
      }
      const onCluster = cluster === undefined ? [] : [switchyardOnCluster(cluster)]
      const serverSystems = systems.flatMap((system) =>
        system === SYSTEMS.switchyard ? [system, ...onCluster] : [system],
      )
      for (const system of serverSystems) results.throughput.push(await runFanout(context, system, plan.servers))
      await cluster?.stop()
    }
    if (only.has('memory')) {
      for (const system of systems) {
        results.memory.push(await runIdleMemory(context, system, idleConnections))
      }
    }
    if (only.has('redis')) results.redisCost.push(...(await runRedisCost(context, plan.redisMembers)))
    if (only.has('background')) results.background.push(...(await runBackground(context, plan.background)))
    if (only.has('idle')) results.idleWorkers.push(await runIdleWorkers(context, plan.idleWorkers))
    if (only.has('history')) {
      const history = await runHistory(context, plan.history)
      results.historyFanout.push(...history.fanout)
      results.historyMemory.push(history.memory)
      results.recovery.push(history.recovery)
    }
    if (only.has('presence')) results.presence.push(await runPresence(context, plan.presence))
  } finally {
    await generators.close()
    await cluster?.stop()
    await redis.stop()
  }

  // Tiny sizes measure nothing: a quick run checks that everything runs, not the targets.
  const targets = values.quick ? [] : checkTargets(results)
  console.log(formatReport(results, targets))
  const report = await writeReport(RESULTS_DIR, results, targets, {
    quick: values.quick,
    durationS: Math.round((Date.now() - startedAt) / 1000),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadGenerators: generators.size,
    versions: await collectVersions(),
  })
  progress(`done; wrote ${report.jsonPath}, ${report.svgPath} and ${report.markdownPath}`)
}

await main()
