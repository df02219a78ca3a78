/** Reads a variable the runner sets for its child processes. */
export function requireEnv(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set; start this file through bench/run.ts`)
  return value
}

/** How long the history variant keeps messages: far longer than any run, so only `size` trims. */
const HISTORY_TTL_MS = 300_000

/**
 * The layer option `history` of the run's processes: with BENCH_HISTORY_SIZE set (the `switchyard-history`
 * variant), the fan-out group keeps its last that many messages; unset, no history (`undefined`).
 */
export function historyOption(group: string): Record<string, { size: number; ttlMs: number }> | undefined {
  const size = process.env.BENCH_HISTORY_SIZE
  if (size === undefined || size === '') return undefined
  return { [group]: { size: Number(size), ttlMs: HISTORY_TTL_MS } }
}

/** Where a run's Switchyard layers connect: the layer options `hosts` or `cluster`. */
export type LayerServers = { readonly hosts: string[] } | { readonly cluster: { readonly nodes: string[] } }

/**
 * The servers of the run's Switchyard layers: with BENCH_CLUSTER_URLS set (the `switchyard-cluster` variant, its
 * nodes' URLs separated by commas) a Redis Cluster, else the run's Redis at `redisUrl`.
 */
export function layerServers(redisUrl: string): LayerServers {
  const nodes = process.env.BENCH_CLUSTER_URLS
  if (nodes === undefined || nodes === '') return { hosts: [redisUrl] }
  return { cluster: { nodes: nodes.split(',') } }
}
