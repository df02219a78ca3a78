/**
 * Group history (issue 16): fan-out with history off and on (Switchyard's server, the same group, the variant
 * `switchyard-history` keeping its last BENCH_HISTORY_SIZE messages; back to back, where CPU per delivery also
 * follows how bursty the publisher is, and paced, where it does not), then, on a redis-server of its own, the
 * Redis memory of groups with a full history and the time to recover that many missed messages. The layer runs
 * in child processes from the built package: the fan-out servers and publisher, and history-probe.ts.
 */
import { Redis } from 'ioredis'

import { RedisKeys } from '../../src/layers/redis/keys.js'
import type { Filled, FillRequest, RecoverRequest, Recovered } from '../history/history-probe.js'
import { nextMessage, sendTo, stopChild } from '../harness/ipc.js'
import { startBenchRedis } from '../harness/redis.js'
import { keyMemory, usedMemory } from '../harness/redis-memory.js'
import { repeated } from '../harness/repeated.js'
import type { HistoryFanoutRow, HistoryMemoryResult, RecoveryResult } from '../harness/result.js'
import { spawnChild } from '../harness/spawn-child.js'
import { summarize } from '../harness/stats.js'
import { BENCH_HISTORY_SIZE, SWITCHYARD_HISTORY, SYSTEMS } from '../systems/systems.js'
import type { BenchContext } from './context.js'
import { runFanout, type FanoutParams } from './fanout.js'

const PROBE = new URL('../history/history-probe.ts', import.meta.url)

export interface HistoryParams {
  /** Fan-out sizes; the first runs `repeats` times per system, in turns, the others once. */
  readonly fanout: readonly FanoutParams[]
  readonly repeats: number
  /** Groups filled with BENCH_HISTORY_SIZE messages for the memory reading. */
  readonly memoryGroups: number
  /** Text of each kept message (a chat line). */
  readonly textBytes: number
  /** Measured recoveries of BENCH_HISTORY_SIZE missed messages. */
  readonly recoveries: number
}

export interface HistoryResults {
  readonly fanout: HistoryFanoutRow[]
  readonly memory: HistoryMemoryResult
  readonly recovery: RecoveryResult
}

/** The fan-out sizes with history off, then on, in turns. */
async function compareFanout(context: BenchContext, params: HistoryParams): Promise<HistoryFanoutRow[]> {
  const rows: HistoryFanoutRow[] = []
  for (const [index, size] of params.fanout.entries()) {
    const times = index === 0 ? params.repeats : 1
    const [off, on] = await repeated([SYSTEMS.switchyard, SWITCHYARD_HISTORY], times, (system) =>
      runFanout(context, system, size),
    )
    if (off === undefined || on === undefined) throw new Error('a fan-out run is missing')
    const row: HistoryFanoutRow = {
      params: off.params,
      historySize: BENCH_HISTORY_SIZE,
      off,
      on,
      cpuRatio: on.cpuUsPerUnit / off.cpuUsPerUnit,
      rateRatio: on.perSecond / off.perSecond,
    }
    context.progress(`history fan-out ${row.params}: server CPU per delivery ${row.cpuRatio.toFixed(2)}x with history`)
    rows.push(row)
  }
  return rows
}

/** Fills `groups` history groups through the probe and reads what they cost Redis. */
async function measureMemory(
  probe: ReturnType<typeof spawnChild>,
  redis: Redis,
  keys: RedisKeys,
  params: HistoryParams,
): Promise<HistoryMemoryResult> {
  const fill = async (namePrefix: string, groups: number): Promise<Filled> => {
    const filled = nextMessage<Filled>(probe, 'history.filled', 600_000)
    const request: FillRequest = {
      kind: 'history.fill',
      namePrefix,
      groups,
      messages: BENCH_HISTORY_SIZE,
      textBytes: params.textBytes,
    }
    await sendTo(probe, request)
    return filled
  }
  await fill('bench.warm-', 1) // scripts loaded and connections made before the first reading
  const before = await usedMemory(redis)
  const { sample } = await fill('bench.memory-', params.memoryGroups)
  const after = await usedMemory(redis)
  const [kept] = await redis.zrangeBuffer(keys.history(sample), '0', '0')
  return {
    groups: params.memoryGroups,
    messagesPerGroup: BENCH_HISTORY_SIZE,
    textBytes: params.textBytes,
    storedMessageBytes: kept?.length ?? 0,
    usedMemoryBytesPerGroup: (after - before) / params.memoryGroups,
    keys: await Promise.all([
      keyMemory(redis, 'history (messages)', keys.history(sample)),
      keyMemory(redis, 'position', keys.historyPosition(sample)),
      keyMemory(redis, 'channels_redis group (proxy member)', keys.group(sample)),
    ]),
  }
}

async function measureRecovery(probe: ReturnType<typeof spawnChild>, params: HistoryParams): Promise<RecoveryResult> {
  const done = nextMessage<Recovered>(probe, 'history.recovered', 600_000)
  const request: RecoverRequest = {
    kind: 'history.recover',
    messages: BENCH_HISTORY_SIZE,
    textBytes: params.textBytes,
    repeats: params.recoveries,
    warmUp: Math.min(10, params.recoveries),
  }
  await sendTo(probe, request)
  const { recoverMs, groupAddMs } = await done
  const add = summarize(groupAddMs)
  return {
    messages: BENCH_HISTORY_SIZE,
    textBytes: params.textBytes,
    recoveries: recoverMs.length,
    ...summarize(recoverMs),
    groupAddP50Ms: add.p50Ms,
    groupAddP99Ms: add.p99Ms,
  }
}

export async function runHistory(context: BenchContext, params: HistoryParams): Promise<HistoryResults> {
  const fanout = await compareFanout(context, params)
  context.progress('history memory and recovery: starting a redis-server of its own')
  const own = await startBenchRedis()
  const prefix = `benchhistory${process.pid}`
  const env = { BENCH_REDIS_URL: own.url, BENCH_PREFIX: prefix, BENCH_HISTORY_SIZE: String(BENCH_HISTORY_SIZE) }
  const redis = new Redis(own.url)
  const probe = spawnChild(PROBE, env)
  try {
    await nextMessage(probe, 'ready', 30_000)
    context.progress(`history memory: ${params.memoryGroups} groups x ${BENCH_HISTORY_SIZE} messages`)
    const memory = await measureMemory(probe, redis, new RedisKeys(prefix), params)
    context.progress(`history memory: ${Math.round(memory.usedMemoryBytesPerGroup)} bytes per group`)
    context.progress(`history recovery: ${params.recoveries} recoveries of ${BENCH_HISTORY_SIZE} messages`)
    const recovery = await measureRecovery(probe, params)
    context.progress(`history recovery: p50 ${recovery.p50Ms.toFixed(2)} ms, p99 ${recovery.p99Ms.toFixed(2)} ms`)
    return { fanout, memory, recovery }
  } finally {
    await stopChild(probe)
    redis.disconnect()
    await own.stop()
  }
}
