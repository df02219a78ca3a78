/**
 * `npm run bench [-- --quick] [-- --only echo|fanout]`: starts a private redis-server, runs each workload against
 * each system (each in its own server process), prints one table and writes JSON and SVG under bench/results/.
 */
import { availableParallelism, cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { LoadGenerators } from './harness/load-generators.js'
import { startBenchRedis } from './harness/redis.js'
import { formatTable, writeReport } from './harness/report.js'
import type { BenchResult } from './harness/result.js'
import { SYSTEMS } from './systems/systems.js'
import type { BenchContext } from './workloads/context.js'
import { DEFAULT_ECHO, runEcho, type EchoParams } from './workloads/echo.js'
import { DEFAULT_FANOUT_CLIENTS, DEFAULT_FANOUT_MESSAGES, runFanout, type FanoutParams } from './workloads/fanout.js'

const RESULTS_DIR = fileURLToPath(new URL('results/', import.meta.url))

interface Plan {
  readonly echo: readonly EchoParams[]
  readonly fanout: readonly FanoutParams[]
}

function planFor(quick: boolean, only: string | undefined, fanoutClients: readonly number[]): Plan {
  const echo = quick ? [{ connections: 4, roundTrips: 20 }] : [DEFAULT_ECHO]
  const fanout = quick
    ? [{ clients: 20, messages: 10, idleMs: 2_000 }]
    : fanoutClients.map((clients) => ({ clients, messages: DEFAULT_FANOUT_MESSAGES }))
  return { echo: only === 'fanout' ? [] : echo, fanout: only === 'echo' ? [] : fanout }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      clients: { type: 'string' },
    },
  })
  if (values.only !== undefined && values.only !== 'echo' && values.only !== 'fanout') {
    throw new Error(`--only takes echo or fanout, got ${JSON.stringify(values.only)}`)
  }
  const fanoutClients = values.clients?.split(',').map(Number) ?? [...DEFAULT_FANOUT_CLIENTS]
  if (fanoutClients.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`--clients takes positive integers separated by commas, got ${JSON.stringify(values.clients)}`)
  }
  const plan = planFor(values.quick, values.only, fanoutClients)

  const progress = (line: string): void => {
    process.stderr.write(`[bench] ${line}\n`)
  }
  progress('starting a private redis-server')
  const redis = await startBenchRedis()
  // Two workers where there are cores to spare; one on a 2-core box leaves the other core to the server.
  const generators = LoadGenerators.start(availableParallelism() > 2 ? 2 : 1)
  const context: BenchContext = { redisUrl: redis.url, redisPid: redis.pid, generators, progress }
  const results: BenchResult[] = []
  try {
    for (const system of Object.values(SYSTEMS)) {
      for (const params of plan.echo) results.push(await runEcho(context, system, params))
      for (const params of plan.fanout) results.push(await runFanout(context, system, params))
    }
  } finally {
    await generators.close()
    await redis.stop()
  }

  console.log(formatTable(results))
  const report = await writeReport(RESULTS_DIR, results, {
    quick: values.quick,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadGenerators: generators.size,
  })
  progress(`wrote ${report.jsonPath} and ${report.svgPath}`)
}

await main()
