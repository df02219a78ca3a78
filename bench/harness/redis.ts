/** A private redis-server for one benchmark run, provisioned as the test suite does. */
import { readFile } from 'node:fs/promises'

import {
  findOnPath,
  installRedisWithApt,
  isRunningAsRoot,
  planRedis,
  startRedisServer,
  type RunningRedis,
} from '../../test/setup/provision-redis.js'
import { statCpuMs } from './proc-threads.js'

/**
 * Starts a redis-server on a free loopback port. Never uses REDIS_URL: a shared Redis would mix other traffic
 * into the numbers. Installs redis-server with apt when it is missing and we are root, as the test setup does.
 */
export async function startBenchRedis(): Promise<RunningRedis> {
  const plan = planRedis({ env: {}, findBinary: findOnPath, isRoot: isRunningAsRoot() })
  switch (plan.kind) {
    case 'binary':
      return startRedisServer({ bin: plan.path })
    case 'install': {
      await installRedisWithApt()
      const bin = findOnPath('redis-server')
      if (bin === undefined) throw new Error(`\`${plan.command}\` succeeded but redis-server is still not on PATH`)
      return startRedisServer({ bin })
    }
    case 'fail':
      throw new Error(plan.message)
    case 'url':
      throw new Error('unreachable: the benchmark never plans with REDIS_URL')
  }
}

/** CPU time (user + system) of any process from `/proc/<pid>/stat`, in ms; undefined off Linux. */
export async function procCpuMs(pid: number): Promise<number | undefined> {
  try {
    const cpu = statCpuMs(await readFile(`/proc/${pid}/stat`, 'utf8'))
    return cpu === undefined ? undefined : cpu.userMs + cpu.systemMs
  } catch {
    return undefined
  }
}
