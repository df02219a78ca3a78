// Issue 18: a resharding is followed. While one layer sends to a channel and another receives it, the channel's hash
// slot moves to another master key by key (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE), as
// `redis-cli --cluster reshard` does: commands meet ASK and TRYAGAIN, then MOVED; the blocking read moves too.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { hashSlot } from '../../src/layers/redis/cluster-slots.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { RedisLayerOptions } from '../../src/layers/redis/redis-options.js'
import { redisServerBin } from '../redis/helpers.js'
import { startPrivateCluster, type ClusterNode, type RunningCluster } from '../setup/provision-cluster.js'
import { sleep, waitFor } from '../support/wait.js'

const CHANNEL = 'orders'
const MESSAGES = 400

let cluster: RunningCluster

beforeAll(async () => {
  cluster = await startPrivateCluster(redisServerBin())
})

afterAll(async () => {
  await cluster.stop()
})

/** Moves `slot` from `from` to `to` a few keys at a time, pausing between steps so traffic runs meanwhile. */
async function migrateSlot(slot: number, from: ClusterNode, to: ClusterNode): Promise<number> {
  const source = new Redis(from.url)
  const target = new Redis(to.url)
  let moved = 0
  try {
    await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id)
    await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id)
    for (;;) {
      const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 2)) as string[]
      if (keys.length === 0) break
      await source.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5_000, 'KEYS', ...keys)
      moved += keys.length
      await sleep(30)
    }
    // The new owner first, as redis-cli does: the old one then answers MOVED, never "nobody".
    await target.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
    await source.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
    for (const master of cluster.masters()) {
      if (master.id === from.id || master.id === to.id) continue
      const other = new Redis(master.url)
      await other.call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id)
      other.disconnect()
    }
  } finally {
    source.disconnect()
    target.disconnect()
  }
  return moved
}

/**
 * Sends MESSAGES to CHANNEL (on `prefix`) while another layer receives them and the channel's slot moves to another
 * master; asserts every message arrived once, in order, and the slot is on its new master.
 */
async function reshardUnderTraffic(prefix: string, senderOptions: Partial<RedisLayerOptions> = {}): Promise<void> {
  const nodes = cluster.nodes.map((node) => node.url)
  const sender = new RedisChannelLayer({ cluster: { nodes }, prefix, capacity: MESSAGES, ...senderOptions })
  const receiver = new RedisChannelLayer({ cluster: { nodes }, prefix, capacity: MESSAGES })
  try {
    await Promise.all([sender.ready(), receiver.ready()])
    const shard = (
      sender as unknown as { shardFor(channel: string): { slot: number; keys: { queue(c: string): string } } }
    ).shardFor(CHANNEL)
    const slot = hashSlot(shard.keys.queue(CHANNEL))
    expect(shard.slot).toBe(slot)
    const from = await cluster.masterFor(shard.keys.queue(CHANNEL))
    const to = cluster.masters().find((master) => master.id !== from.id)
    if (to === undefined) throw new Error('the cluster has one master')

    const received: number[] = []
    // Messages sent one after another, a few of them delayed: the channel's queue and delayed set have some
    // waiting while keys move, and the receiver starts once a backlog is there.
    let sent = 0
    const sending = (async () => {
      for (let n = 0; n < MESSAGES; n++) {
        await sender.send(CHANNEL, { type: 'order', n })
        sent++
        await sleep(5)
      }
    })()
    await waitFor('a quarter sent', () => sent >= MESSAGES / 4, { timeoutMs: 10_000 })
    const receiving = (async () => {
      while (received.length < MESSAGES) {
        const message = await receiver.receive(CHANNEL)
        received.push(message.n as number)
        await sleep(8)
      }
    })()
    const startedAt = Date.now()
    const moved = await migrateSlot(slot, from, to)
    const migrationMs = Date.now() - startedAt
    await sending
    await Promise.race([receiving, sleep(15_000)])
    console.log(
      `[resharding] slot ${slot} moved with ${moved} keys in ${migrationMs} ms while sending` +
        (senderOptions.waitForReplicas === undefined ? '' : ' (the sender waiting for a replica on each send)'),
    )
    expect(moved).toBeGreaterThan(0)
    expect(received).toHaveLength(MESSAGES)
    // One sender, one channel: in order, so none lost and none twice.
    expect(received).toEqual(Array.from({ length: MESSAGES }, (_unused, n) => n))
    expect(await cluster.masterFor(shard.keys.queue(CHANNEL))).toMatchObject({ id: to.id })
  } finally {
    await Promise.all([sender.close(), receiver.close()])
  }
}

describe('a cluster layer during a resharding', () => {
  it("keeps sending and receiving while its channel's slot moves to another master: none lost, none twice", async () => {
    await reshardUnderTraffic('reshard')
  }, 60_000)

  // With waitForReplicas, a send goes to the slot's master on a connection of its own (with its WAIT), not through
  // the cluster client: the ASK and MOVED it meets are its own to follow.
  it('follows the move as well when each send waits for a replica', async () => {
    await reshardUnderTraffic('reshard-wait', { waitForReplicas: { replicas: 1, timeoutMs: 1_000 } })
  }, 60_000)
})
