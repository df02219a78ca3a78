import type { TestProject } from 'vitest/node'
import { startPrivateCluster } from './provision-cluster.js'
import { findOnPath, installRedisWithApt, isRunningAsRoot, planRedis, startRedisServer } from './provision-redis.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A Redis every test may use; tests share it, so they must use their own key or channel prefixes. */
    redisUrl: string
    /** Path to redis-server for tests that start their own; '' when REDIS_URL came from the environment. */
    redisServerBin: string
    /**
     * A Redis Cluster every cluster-mode test may use (3 masters, 3 replicas, started here on loopback): its nodes'
     * URLs. Shared like `redisUrl`: tests use their own prefixes, and never stop or fail over its nodes.
     */
    clusterUrls: readonly string[]
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const plan = planRedis({ env: process.env, findBinary: findOnPath, isRoot: isRunningAsRoot() })

  let bin: string
  switch (plan.kind) {
    case 'url': {
      project.provide('redisUrl', plan.url)
      project.provide('redisServerBin', '')
      // The cluster tests still need redis-server (and redis-cli) here: startPrivateCluster names what is missing.
      const cluster = await startPrivateCluster('')
      project.provide(
        'clusterUrls',
        cluster.nodes.map((node) => node.url),
      )
      return () => cluster.stop()
    }
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

  const [redis, cluster] = await Promise.all([startRedisServer({ bin }), startPrivateCluster(bin)])
  project.provide('redisUrl', redis.url)
  project.provide('redisServerBin', bin)
  project.provide(
    'clusterUrls',
    cluster.nodes.map((node) => node.url),
  )
  return async () => {
    await Promise.all([redis.stop(), cluster.stop()])
  }
}
