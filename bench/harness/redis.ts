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

/** Linux clock ticks per second (`getconf CLK_TCK`), 100 on every mainstream kernel config. */
const CLOCK_TICKS_PER_SECOND = 100

/** CPU time (user + system) of any process from `/proc/<pid>/stat`, in ms; undefined off Linux. */
export async function procCpuMs(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND
  } catch {
    return undefined
  }
}
