import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { LoadGenerators } from '../../bench/harness/load-generators.js'
import { startBenchRedis } from '../../bench/harness/redis.js'
import { SYSTEMS } from '../../bench/systems/systems.js'
import type { BenchContext } from '../../bench/workloads/context.js'
import { runEcho } from '../../bench/workloads/echo.js'
import { runFanout } from '../../bench/workloads/fanout.js'
import type { RunningRedis } from '../setup/provision-redis.js'

// The harness's smallest run on Switchyard only: proves the processes, IPC and counting work, measures nothing.
describe('bench harness smoke run', () => {
  let redis: RunningRedis
  let generators: LoadGenerators
  let context: BenchContext

  beforeAll(async () => {
    redis = await startBenchRedis()
    generators = LoadGenerators.start(1)
    context = { redisUrl: redis.url, redisPid: redis.pid, generators, progress: () => undefined }
  })

  afterAll(async () => {
    await generators.close()
    await redis.stop()
  })

  it('echoes every round trip and counts it', async () => {
    const result = await runEcho(context, SYSTEMS.switchyard, { connections: 2, roundTrips: 5 })
    expect(result).toMatchObject({ workload: 'echo', system: 'switchyard', count: 10, lost: 0, duplicated: 0 })
    expect(result.perSecond).toBeGreaterThan(0)
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms)
    expect(result.serverCpuMs).toBeGreaterThan(0)
  }, 15_000)

  it('delivers every fan-out message to every client exactly once', async () => {
    const result = await runFanout(context, SYSTEMS.switchyard, { clients: 5, messages: 5, idleMs: 2_000 })
    expect(result).toMatchObject({ workload: 'fanout', count: 25, lost: 0, duplicated: 0, unit: 'deliveries' })
    expect(result.p50Ms).toBeGreaterThan(0)
  }, 15_000)
})
