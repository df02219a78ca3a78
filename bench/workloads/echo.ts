/** Echo: N connections each do R sequential JSON round trips; round trips/s and latency. */
import type { EchoConnect, EchoDone } from '../harness/load-protocol.js'
import type { BenchResult } from '../harness/result.js'
import { summarize } from '../harness/stats.js'
import type { SystemUnderTest } from '../systems/systems.js'
import { measureCpu, runEnv, withServer, type BenchContext } from './context.js'

export interface EchoParams {
  readonly connections: number
  readonly roundTrips: number
}

export const DEFAULT_ECHO: EchoParams = { connections: 50, roundTrips: 200 }

export async function runEcho(
  context: BenchContext,
  system: SystemUnderTest,
  params: EchoParams,
): Promise<BenchResult> {
  const size = `${params.connections} conn x ${params.roundTrips}`
  context.progress(`echo ${size} on ${system.label}: starting server`)
  return withServer(system, runEnv(context), async (server) => {
    const url = system.echoUrl(server.url)
    await context.generators.connect(
      params.connections,
      (connections): EchoConnect => ({
        kind: 'echo.connect',
        wire: system.wire,
        url,
        connections,
        roundTrips: params.roundTrips,
      }),
      30_000,
    )
    // One unmeasured pass first: every system is measured warm (JIT-compiled), as a server in service is.
    context.progress(`echo ${size} on ${system.label}: ${params.connections} connected, warming up`)
    await context.generators.all<EchoDone>({ kind: 'go' }, 'echo.done', 600_000)
    context.progress(`echo ${size} on ${system.label}: running`)
    const {
      value: done,
      serverCpuMs,
      redisCpuMs,
    } = await measureCpu([server], [context.redisPid], () =>
      context.generators.all<EchoDone>({ kind: 'go' }, 'echo.done', 600_000),
    )
    const latencies = done.flatMap((d) => d.latenciesMs)
    const durationMs = Math.max(...done.map((d) => d.endAt)) - Math.min(...done.map((d) => d.startAt))
    const count = latencies.length
    return {
      system: system.name,
      label: system.label,
      workload: 'echo',
      params: size,
      unit: 'round trips',
      count,
      durationMs,
      perSecond: (count / durationMs) * 1000,
      ...summarize(latencies),
      lost: params.connections * params.roundTrips - count,
      duplicated: 0,
      serverCpuMs,
      cpuUsPerUnit: (serverCpuMs * 1000) / count,
      redisCpuMs,
    }
  })
}
