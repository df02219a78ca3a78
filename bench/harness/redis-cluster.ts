/** A private Redis Cluster for the `switchyard-cluster` runs, provisioned as the test suite provisions its own. */
import { startPrivateCluster, type RunningCluster } from '../../test/setup/provision-cluster.js'
import { findOnPath, rawCommand } from '../../test/setup/provision-redis.js'
import type { BenchCluster } from '../systems/systems.js'

/** Redis' own default: six busy nodes sharing two cores with the servers must not take each other for failed. */
const NODE_TIMEOUT_MS = 15_000

export interface RunningBenchCluster extends BenchCluster {
  stop(): Promise<void>
}

/**
 * Starts 3 masters and 3 replicas on loopback (test/setup/provision-cluster.ts), with the persistence of the run's
 * single redis-server: none. The test cluster's `appendfsync always` would make every write wait for a disk flush,
 * a cost the single-Redis rows do not pay. The replicas stay: a cluster in service has them, and the masters' CPU
 * includes feeding them.
 */
export async function startBenchCluster(): Promise<RunningBenchCluster> {
  const bin = findOnPath('redis-server')
  if (bin === undefined) throw new Error('redis-server is not on PATH (the runner provisions it first)')
  const cluster: RunningCluster = await startPrivateCluster(bin, { nodeTimeoutMs: NODE_TIMEOUT_MS })
  try {
    await Promise.all(cluster.nodes.map((node) => rawCommand(node.port, ['CONFIG', 'SET', 'appendonly', 'no'], 5_000)))
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return {
    urls: cluster.nodes.map((node) => node.url),
    pids: cluster.nodes.map((node) => node.pid),
    stop: () => cluster.stop(),
  }
}
