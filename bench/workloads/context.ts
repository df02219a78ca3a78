/** What every workload gets from the runner: the Redis, the load generators and a progress line writer. */
import { randomBytes } from 'node:crypto'

import type { LoadGenerators } from '../harness/load-generators.js'
import { procCpuMs } from '../harness/redis.js'
import type { ServerHandle } from '../harness/server-process.js'
import type { SystemUnderTest } from '../systems/systems.js'

export interface BenchContext {
  readonly redisUrl: string
  readonly redisPid: number
  readonly generators: LoadGenerators
  readonly progress: (line: string) => void
}

/** The environment of one run's child processes: its own key prefix and group, so runs never see each other. */
export function runEnv(context: BenchContext): Record<string, string> {
  return {
    BENCH_REDIS_URL: context.redisUrl,
    BENCH_PREFIX: `bench${randomBytes(4).toString('hex')}`,
    BENCH_GROUP: 'bench.fanout',
  }
}

/** Starts the system's server with `env`, runs `body`, stops the server whatever happens. */
export async function withServer<T>(
  system: SystemUnderTest,
  env: Readonly<Record<string, string>>,
  body: (server: ServerHandle) => Promise<T>,
): Promise<T> {
  const server = await system.start(env)
  try {
    return await body(server)
  } finally {
    await server.stop()
  }
}

/** Server and Redis CPU time over `measured`, in ms. */
export async function measureCpu<T>(
  server: ServerHandle,
  redisPid: number,
  measured: () => Promise<T>,
): Promise<{ value: T; serverCpuMs: number; redisCpuMs: number | null }> {
  const [serverBefore, redisBefore] = await Promise.all([server.cpuMs(), procCpuMs(redisPid)])
  const value = await measured()
  const [serverAfter, redisAfter] = await Promise.all([server.cpuMs(), procCpuMs(redisPid)])
  const redisCpuMs = redisBefore === undefined || redisAfter === undefined ? null : redisAfter - redisBefore
  return { value, serverCpuMs: serverAfter - serverBefore, redisCpuMs }
}
