// Runs the background matrix of issue 8 (Switchyard and BullMQ x 1, 2 worker processes x 0 %, 10 % failing
// first attempts), prints a table and writes bench/results/background-<timestamp>.json.
//
//   npx tsx bench/background/cli.ts [--messages 20000] [--concurrency 16]
//
// Uses REDIS_URL if set, else starts a private redis-server (found on PATH) for the whole matrix. To profile the
// worker processes, pass node flags in BENCH_WORKER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/bgprof".
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { findOnPath, startRedisServer, type RunningRedis } from '../../test/setup/provision-redis.js'
import type { BenchSystem } from './protocol.js'
import { runBackgroundBench, type BackgroundResult } from './run-background.js'

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '20000' }, concurrency: { type: 'string', default: '16' } },
})
const messages = Number(values.messages)
const concurrency = Number(values.concurrency)
if (!Number.isInteger(messages) || messages <= 0) throw new Error(`--messages must be a positive integer`)
if (!Number.isInteger(concurrency) || concurrency <= 0) throw new Error(`--concurrency must be a positive integer`)

let redis: RunningRedis | undefined
let redisUrl = process.env.REDIS_URL?.trim()
if (!redisUrl) {
  const bin = findOnPath('redis-server')
  if (bin === undefined) throw new Error('redis-server is not on PATH; install it or set REDIS_URL')
  redis = await startRedisServer({ bin })
  redisUrl = redis.url
}

const results: BackgroundResult[] = []
try {
  for (const failRate of [0, 0.1] as const) {
    for (const workers of [1, 2] as const) {
      for (const system of ['switchyard', 'bullmq'] as const satisfies readonly BenchSystem[]) {
        const label = `${system} workers=${workers} failRate=${failRate}`
        console.error(`[background] ${label}: ${messages} messages, concurrency ${concurrency} ...`)
        const result = await runBackgroundBench({ system, workers, concurrency, failRate, messages, redisUrl })
        results.push(result)
        console.error(
          `[background] ${label}: ${Math.round(result.messagesPerSecond)} msg/s, ` +
            `${Math.round(result.workerCpuUsPerMessage)} µs CPU/msg, ${result.ok ? 'ok' : 'FAILED CHECKS'}`,
        )
      }
    }
  }
} finally {
  await redis?.stop()
}

const row = (cells: readonly string[]): string => cells.map((cell) => cell.padStart(12)).join(' ')
console.log(
  row([
    'system',
    'workers',
    'fail %',
    'enqueue/s',
    'msg/s',
    'consume ms',
    'attempts',
    'cpu µs/msg',
    'redis µs/msg',
    'lost',
    'dup',
    'left',
    'check',
  ]),
)
for (const r of results) {
  console.log(
    row([
      r.system,
      String(r.workers),
      String(r.failRate * 100),
      String(Math.round(r.enqueuePerSecond)),
      String(Math.round(r.messagesPerSecond)),
      String(Math.round(r.consumeMs)),
      String(r.attempts),
      r.workerCpuUsPerMessage.toFixed(1),
      r.redisCpuUsPerMessage.toFixed(1),
      String(r.lost),
      String(r.duplicates),
      String(r.leftInRedis),
      r.ok ? 'ok' : 'FAIL',
    ]),
  )
}
console.log('\nSwitchyard / BullMQ at equal workers and fail rate:')
for (const r of results.filter((x) => x.system === 'switchyard')) {
  const bull = results.find((x) => x.system === 'bullmq' && x.workers === r.workers && x.failRate === r.failRate)
  if (bull === undefined) continue
  const speed = r.messagesPerSecond / bull.messagesPerSecond
  const cpu = r.workerCpuUsPerMessage / bull.workerCpuUsPerMessage
  console.log(
    `  workers=${r.workers} fail=${r.failRate * 100}%: throughput x${speed.toFixed(2)} (target >= 2), ` +
      `worker CPU/msg x${cpu.toFixed(2)} (target <= 0.5)`,
  )
}

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')
mkdirSync(resultsDir, { recursive: true })
const file = join(resultsDir, `background-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
const meta = { node: process.version, platform: `${process.platform}-${process.arch}`, messages, concurrency }
writeFileSync(file, JSON.stringify({ meta, results }, null, 2) + '\n')
console.log(`\nwrote ${file}`)
if (results.some((r) => !r.ok)) process.exitCode = 1
