import type { TestProject } from 'vitest/node'
import { findOnPath, installRedisWithApt, isRunningAsRoot, planRedis, startRedisServer } from './provision-redis.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Redis every test may use; tests share it, so they must use their own key or channel prefixes. */
    redisUrl: string
    /** Path to redis-server for tests that start their own; '' when REDIS_URL came from the environment. */
    redisServerBin: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plan = planRedis({ env: process.env, findBinary: findOnPath, isRoot: isRunningAsRoot() })

  let bin: string
  switch (plan.kind) {
    case 'url':
      project.provide('redisUrl', plan.url)
      project.provide('redisServerBin', '')
      return () => Promise.resolve()
    case 'fail':
      // Failing loudly (never skipping) is deliberate: a suite that silently skips Redis tests looks green in CI.
      throw new Error(plan.message)
    case 'install': {
      console.error(`[redis-global-setup] redis-server not found; running \`${plan.command}\``)
      await installRedisWithApt()
      const installed = findOnPath('redis-server')
      if (installed === undefined)
        throw new Error(`\`${plan.command}\` succeeded but redis-server is still not on PATH`)
      bin = installed
      break
    }
    case 'binary':
      bin = plan.path
      break
  }

  const redis = await startRedisServer({ bin })
  project.provide('redisUrl', redis.url)
  project.provide('redisServerBin', bin)
  return () => redis.stop()
}
