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
