import { rawCommand } from './provision-redis.js'

export type ClusterRole = 'master' | 'replica'

const PROBE_TIMEOUT_MS = 1_000

/** One line of `CLUSTER NODES`, as the answering node sees that node. */
export interface ClusterNodesEntry {
  id: string
  port: number
  /** `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`, `nofailover`, … */
  flags: ReadonlySet<string>
  /** The id of the master a replica follows; undefined for a master. */
  masterId: string | undefined
  linkConnected: boolean
  /** Inclusive ranges; importing/migrating markers (`[slot-<-id]`) are left out. */
  slots: readonly (readonly [number, number])[]
}

export const CLUSTER_SLOTS = 16_384

/**
 * Parses `CLUSTER NODES` (Redis 7: `<id> <ip:port@cport[,hostname]> <flags> <master|-> <ping> <pong> <epoch>
 * <link> <slot>…`, https://redis.io/docs/latest/commands/cluster-nodes/).
 */
export function parseClusterNodes(text: string): ClusterNodesEntry[] {
  const entries: ClusterNodesEntry[] = []
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ')
    const [id, address, flags, master, , , , link] = fields
    if (id === undefined || address === undefined || flags === undefined || link === undefined) continue
    const port = Number(/:(\d+)@/.exec(address)?.[1])
    const slots: [number, number][] = []
    for (const field of fields.slice(8)) {
      if (field.startsWith('[')) continue
      const [start, end = start] = field.split('-')
      slots.push([Number(start), Number(end)])
    }
    entries.push({
      id,
      port,
      flags: new Set(flags.split(',')),
      masterId: master === '-' ? undefined : master,
      linkConnected: link === 'connected',
      slots,
    })
  }
  return entries
}

/** `key:value` lines of `INFO` or `CLUSTER INFO` as strings. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

export interface NodeView<N extends { port: number }> {
  node: N
  info: Map<string, string>
  entries: ClusterNodesEntry[]
  myself: ClusterNodesEntry
  replication: Map<string, string>
}

/** What `node` says about the cluster and itself; rejects when it does not answer within a second. */
export async function viewOf<N extends { port: number }>(node: N): Promise<NodeView<N>> {
  const [info, nodesText, replication] = await Promise.all([
    rawCommand(node.port, ['CLUSTER', 'INFO'], PROBE_TIMEOUT_MS),
    rawCommand(node.port, ['CLUSTER', 'NODES'], PROBE_TIMEOUT_MS),
    rawCommand(node.port, ['INFO', 'replication'], PROBE_TIMEOUT_MS),
  ])
  const entries = parseClusterNodes(nodesText)
  const myself = entries.find((entry) => entry.flags.has('myself'))
  if (myself === undefined) throw new Error(`CLUSTER NODES on port ${node.port} has no "myself" line`)
  return { node, info: parseInfo(info), entries, myself, replication: parseInfo(replication) }
}

export function roleOf(entry: ClusterNodesEntry): ClusterRole {
  return entry.flags.has('master') ? 'master' : 'replica'
}

/** Why the cluster is not healthy yet, or undefined when it is; the first reason found is enough to keep waiting. */
export function unhealthyReason(
  views: readonly NodeView<{ port: number }>[],
  allRunning: boolean,
  masters: number,
): string | undefined {
  for (const { node, info, entries, myself, replication } of views) {
    const where = `node ${node.port}`
    if (info.get('cluster_state') !== 'ok') return `${where}: cluster_state is ${info.get('cluster_state') ?? '?'}`
    if (info.get('cluster_slots_ok') !== String(CLUSTER_SLOTS)) return `${where}: not every slot is ok`
    if (roleOf(myself) === 'replica' && replication.get('master_link_status') !== 'up')
      return `${where}: its link to its master is not up`
    for (const other of views) {
      const seen = entries.find((entry) => entry.id === other.myself.id)
      if (seen === undefined) return `${where} does not know node ${other.node.port}`
      if (['fail', 'fail?', 'handshake'].some((flag) => seen.flags.has(flag)))
        return `${where} sees node ${other.node.port} as ${[...seen.flags].join(',')}`
      if (roleOf(seen) !== roleOf(other.myself) || seen.masterId !== other.myself.masterId)
        return `${where} disagrees with node ${other.node.port} about its role`
    }
  }
  const serving = views.filter((view) => roleOf(view.myself) === 'master' && view.myself.slots.length > 0)
  if (allRunning && serving.length !== masters) return `${serving.length} masters serve slots, not ${masters}`
  if (allRunning) {
    for (const master of serving) {
      if (!views.some((view) => view.myself.masterId === master.myself.id))
        return `master ${master.node.port} has no replica`
    }
  }
  return undefined
}
