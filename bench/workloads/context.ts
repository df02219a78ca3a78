/** What every workload gets from the runner: the Redis, the load generators and a progress line writer. */
import { randomBytes } from 'node:crypto'

import type { LoadGenerators } from '../harness/load-generators.js'
import { procCpuMs } from '../harness/redis.js'
import type { ServerHandle } from '../harness/server-process.js'
import type { RunEnv, SystemUnderTest } from '../systems/systems.js'

export interface BenchContext {
  readonly redisUrl: string
  readonly redisPid: number
  readonly generators: LoadGenerators
  readonly progress: (line: string) => void
}

/** The environment of one run's child processes: its own key prefix and group, so runs never see each other. */
export function runEnv(context: BenchContext): RunEnv {
  return {
    BENCH_REDIS_URL: context.redisUrl,
    BENCH_PREFIX: `bench${randomBytes(4).toString('hex')}`,
    BENCH_GROUP: 'bench.fanout',
  }
}

/** Starts `count` servers of the system with `env`, runs `body`, stops them whatever happens. */
export async function withServers<T>(
  system: SystemUnderTest,
  env: RunEnv,
  count: number,
  body: (servers: readonly ServerHandle[]) => Promise<T>,
): Promise<T> {
  const servers: ServerHandle[] = []
  try {
    for (let i = 0; i < count; i++) servers.push(await system.start(env))
    return await body(servers)
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
  }
}

/** Starts one server of the system with `env`, runs `body`, stops it whatever happens. */
export function withServer<T>(
  system: SystemUnderTest,
  env: RunEnv,
  body: (server: ServerHandle) => Promise<T>,
): Promise<T> {
  return withServers(system, env, 1, ([server]) => {
    if (server === undefined) throw new Error('no server started')
    return body(server)
  })
}

async function totalCpuMs(servers: readonly ServerHandle[]): Promise<number> {
  const each = await Promise.all(servers.map((server) => server.cpuMs()))
  return each.reduce((sum, ms) => sum + ms, 0)
}

/** The summed CPU time of redis-server processes, in ms; undefined where one of them cannot be read. */
async function totalRedisCpuMs(pids: readonly number[]): Promise<number | undefined> {
  const each = await Promise.all(pids.map(procCpuMs))
  return each.includes(undefined) ? undefined : each.reduce((sum: number, ms) => sum + (ms ?? 0), 0)
}

/** The servers' and the redis-servers' (each summed) CPU time over `measured`, in ms. */
export async function measureCpu<T>(
  servers: readonly ServerHandle[],
  redisPids: readonly number[],
  measured: () => Promise<T>,
): Promise<{ value: T; serverCpuMs: number; redisCpuMs: number | null }> {
  const [serverBefore, redisBefore] = await Promise.all([totalCpuMs(servers), totalRedisCpuMs(redisPids)])
  const value = await measured()
  const [serverAfter, redisAfter] = await Promise.all([totalCpuMs(servers), totalRedisCpuMs(redisPids)])
  const redisCpuMs = redisBefore === undefined || redisAfter === undefined ? null : redisAfter - redisBefore
  return { value, serverCpuMs: serverAfter - serverBefore, redisCpuMs }
}
