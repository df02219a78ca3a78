/**
 * Idle workers: Redis commands per second that RetryingConsumer channels with no tasks cost, everything included
 * (claim polls, renewals, registry reports, stalled checks, the layer's timers), on a redis-server of its own so
 * that nothing else is counted.
 */
import { runIdleWorkersBench, type IdleResult } from '../background/run-idle.js'
import { startBenchRedis } from '../harness/redis.js'
import type { BenchContext } from './context.js'

export interface IdleWorkersParams {
  readonly channels: number
  readonly processes: number
  readonly settleMs: number
  readonly windowMs: number
}

export async function runIdleWorkers(context: BenchContext, params: IdleWorkersParams): Promise<IdleResult> {
  const label = `idle workers, ${params.channels} channels in ${params.processes} process(es)`
  context.progress(`${label}: starting a redis-server of its own`)
  const redis = await startBenchRedis()
  try {
    context.progress(`${label}: settling ${params.settleMs} ms, then counting for ${params.windowMs} ms`)
    const result = await runIdleWorkersBench({ redisUrl: redis.url, ...params })
    context.progress(
      `${label}: ${result.commandsPerSecond.toFixed(1)} Redis commands/s, ` +
        `${result.commandsPerChannelPerSecond.toFixed(2)} per channel`,
    )
    return result
  } finally {
    await redis.stop()
  }
}
