import { afterEach, describe, expect, it } from 'vitest'

import type { Message } from '../../src/layers/channel-layer.js'
import { nonLocalName } from '../../src/layers/names.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { consistentHash } from '../../src/layers/redis/shard.js'
import { uniquePrefix, useShardServers } from './helpers.js'

// With several shards a group send is one script on the group's shard, which copies the message to each live
// process's queue key on that shard (group-send.ts). These tests hold it to that: one command however many shards
// the members' queues hash to, processes joining and leaving between sends, sends not awaited while one joins.
const SHARDS = 3

describe('group sends over several shards', () => {
  const shards = useShardServers(SHARDS)
  const layers: RedisChannelLayer[] = []

  afterEach(async () => {
    for (const made of layers.splice(0)) {
      await made.flush()
      await made.close()
    }
  })

  function layer(prefix: string): RedisChannelLayer {
    const made = new RedisChannelLayer({ hosts: shards.urls(), prefix })
    layers.push(made)
    return made
  }

  /** The next message on `channel`; fails naming the channel when none comes in time. */
  const receiveSoon = (made: RedisChannelLayer, channel: string, timeoutMs = 3_000): Promise<Message> =>
    made.receive(channel, { signal: AbortSignal.timeout(timeoutMs) }).catch((error: unknown) => {
      throw new Error(`nothing on ${channel} within ${timeoutMs} ms`, { cause: error })
    })

  /** EVALSHA and EVAL calls on each server so far. */
  async function scriptCalls(): Promise<number[]> {
    return Promise.all(
      shards.clients().map(async (client) => {
        const info = await client.info('commandstats')
        let calls = 0
        for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) calls += Number(match[1])
        return calls
      }),
    )
  }

  it("reaches members whose queues are on every shard with one script on the group's shard", async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    const group = 'spread-room'
    const groupShard = consistentHash(group, SHARDS)
    // Three processes, each with a queue hashing to another shard, and 2 members each.
    const receivers: { made: RedisChannelLayer; members: string[] }[] = []
    const shardsSeen = new Set<number>()
    while (shardsSeen.size < SHARDS) {
      const made = layer(prefix)
      const first = await made.newChannel()
      const shard = consistentHash(nonLocalName(first), SHARDS)
      if (shardsSeen.has(shard)) continue
      shardsSeen.add(shard)
      const members = [first, await made.newChannel()]
      for (const member of members) await made.groupAdd(group, member)
      receivers.push({ made, members })
    }
    await sender.groupSend(group, { type: 'warm-up' })
    for (const { made, members } of receivers) {
      for (const member of members) expect(await receiveSoon(made, member)).toMatchObject({ type: 'warm-up' })
    }

    const sends = 50
    const before = await scriptCalls()
    for (let n = 0; n < sends; n++) await sender.groupSend(group, { type: 'tick', n })
    const after = await scriptCalls()
    const calls = after.map((count, i) => count - (before[i] ?? 0))
    // The layers' upkeep (heartbeats and sweeps, every few seconds) adds a few scripts anywhere, more on a loaded
    // machine; a second step per shard would add one per send to each shard the members' queues hash to.
    expect(calls[groupShard]).toBeGreaterThanOrEqual(sends)
    calls.forEach((count, shard) => {
      if (shard !== groupShard) expect(count).toBeLessThan(sends / 2)
    })
    for (const { made, members } of receivers) {
      for (const member of members) {
        for (let n = 0; n < sends; n++) expect(await receiveSoon(made, member)).toMatchObject({ type: 'tick', n })
      }
    }
    expect(sender.stats().sent).toBe((sends + 1) * 6)
  })

  it('reaches a process that joined after the last send, and counts only the members still in the group', async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    const first = layer(prefix)
    const second = layer(prefix)
    const group = 'changing-room'
    const a1 = await first.newChannel()
    const a2 = await first.newChannel()
    await first.groupAdd(group, a1)
    await first.groupAdd(group, a2)
    await sender.groupSend(group, { type: 'one' })
    expect(sender.stats().sent).toBe(2)

    const b = await second.newChannel()
    await second.groupAdd(group, b)
    await sender.groupSend(group, { type: 'two' })
    expect(sender.stats().sent).toBe(5)
    expect(await receiveSoon(second, b)).toMatchObject({ type: 'two' })

    for (const channel of [a1, a2]) {
      expect(await receiveSoon(first, channel)).toMatchObject({ type: 'one' })
      expect(await receiveSoon(first, channel)).toMatchObject({ type: 'two' })
    }

    // The first process's members leave: it gets nothing more, and they are not counted.
    await first.groupDiscard(group, a1)
    await first.groupDiscard(group, a2)
    await sender.groupSend(group, { type: 'three' })
    expect(sender.stats().sent).toBe(6)
    expect(await receiveSoon(second, b)).toMatchObject({ type: 'three' })
    for (const channel of [a1, a2]) await expect(receiveSoon(first, channel, 300)).rejects.toThrow(/nothing on/)
  })

  it('keeps every member in send order when sends are not awaited, made while the layer connects and a process joins', async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    const early = layer(prefix)
    const late = layer(prefix)
    const group = 'busy-room'
    // The sender is not ready yet: its first sends wait for the connection and meet a Redis that knows no script.
    // Before scripts were loaded on connect, 3 runs in 10 had some arrive after later ones (NOSCRIPT, sent again as
    // EVAL behind them).
    const a = await early.newChannel()
    const b = await late.newChannel()
    await early.groupAdd(group, a)
    const total = 60
    const sends: Promise<void>[] = []
    const joinAt = 20
    for (let n = 0; n < total; n++) {
      sends.push(sender.groupSend(group, { type: 'tick', n }))
      // b's process joins part-way, between sends in flight: from some send on, b gets every one.
      if (n === joinAt) await late.groupAdd(group, b)
      // A few turns of the event loop between sends, so replies come back while later sends are being made.
      if (n % 5 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(sends)

    const atA: number[] = []
    for (let n = 0; n < total; n++) atA.push(Number((await receiveSoon(early, a)).n))
    expect(atA).toEqual([...Array(total).keys()])
    // b joined part-way: it gets every message from some point on, in order, none missing.
    const atB: number[] = []
    for (;;) {
      const next = await receiveSoon(late, b, 500).catch(() => undefined)
      if (next === undefined) break
      atB.push(Number(next.n))
    }
    // Every send made after the join completed reaches b.
    expect(atB[0]).toBeLessThanOrEqual(joinAt + 1)
    expect(atB.at(-1)).toBe(total - 1)
    const from = atB[0]!
    expect(atB).toEqual([...Array(total - from).keys()].map((i) => i + from))
  })
})
