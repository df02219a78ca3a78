import { describe, expect, it } from 'vitest'

import { parseClusterNodes, parseInfo, unhealthyReason, type NodeView } from '../setup/cluster-topology.js'

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)

/** CLUSTER NODES of a two-node cluster (one master serving every slot, one replica), as `from` answers it. */
function nodesText(from: 'master' | 'replica', { replicaFlags = 'slave' } = {}): string {
  const master = `${A} 127.0.0.1:7000@17000 ${from === 'master' ? 'myself,' : ''}master - 0 0 1 connected 0-16383`
  const replica = `${B} 127.0.0.1:7001@17001,host-b ${from === 'replica' ? 'myself,' : ''}${replicaFlags} ${A} 0 0 1 connected`
  return `${master}\n${replica}\n`
}

function view(port: number, text: string, replicationLink = 'up'): NodeView<{ port: number }> {
  const entries = parseClusterNodes(text)
  return {
    node: { port },
    info: parseInfo('cluster_state:ok\r\ncluster_slots_ok:16384\r\n'),
    entries,
    myself: entries.find((entry) => entry.flags.has('myself'))!,
    replication: parseInfo(`# Replication\r\nmaster_link_status:${replicationLink}\r\n`),
  }
}

describe('cluster topology', () => {
  it('parses CLUSTER NODES lines: id, port, flags, master, link and slot ranges without migration markers', () => {
    const [master, replica] = parseClusterNodes(
      `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5 9 [10->-${B}]\n${nodesText('master').split('\n')[1]!}`,
    )
    expect(master).toMatchObject({
      id: A,
      port: 7000,
      masterId: undefined,
      linkConnected: true,
      slots: [
        [0, 5],
        [9, 9],
      ],
    })
    expect([...master!.flags]).toEqual(['myself', 'master'])
    expect(replica).toMatchObject({ id: B, port: 7001, masterId: A, slots: [] })
  })

  it('calls a cluster healthy only when every node agrees and every replica is linked', () => {
    const healthy = [view(7000, nodesText('master')), view(7001, nodesText('replica'))]
    expect(unhealthyReason(healthy, true, 1)).toBeUndefined()
    expect(unhealthyReason(healthy, true, 3)).toBe('1 masters serve slots, not 3')

    const suspected = [view(7000, nodesText('master', { replicaFlags: 'slave,fail?' })), healthy[1]!]
    expect(unhealthyReason(suspected, true, 1)).toBe('node 7000 sees node 7001 as slave,fail?')

    const unlinked = [healthy[0]!, view(7001, nodesText('replica'), 'down')]
    expect(unhealthyReason(unlinked, true, 1)).toBe('node 7001: its link to its master is not up')

    // The master alone, its replica killed: healthy while not every node runs, not once all should.
    expect(unhealthyReason([healthy[0]!], false, 1)).toBeUndefined()
    expect(unhealthyReason([healthy[0]!], true, 1)).toBe('master 7000 has no replica')
  })
})
