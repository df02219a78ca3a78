import type { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import type { Message } from '../../src/layers/channel-layer.js'
import { nonLocalName } from '../../src/layers/names.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { consistentHash } from '../../src/layers/redis/shard.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, uniquePrefix } from './helpers.js'

// With several shards a group send copies its message to the process queues the group's last send reached at once,
// beside the script that plans it on the group's shard (group-routes.ts). These tests break that shortcut: a
// stalled group shard, processes joining and leaving between sends, and sends not awaited while one joins.
const SHARDS = 3
const PAUSE_MS = 1_500

describe('group sends over several shards', () => {
  const servers: RunningRedis[] = []
  const raw = new RawClients()
  let clients: Redis[] = []
  const layers: RedisChannelLayer[] = []

  beforeAll(async () => {
    const bin = redisServerBin()
    for (let i = 0; i < SHARDS; i++) servers.push(await startPrivateRedis(bin))
    clients = servers.map((server) => raw.connect(server.url))
  })

  afterEach(async () => {
    for (const made of layers.splice(0)) {
      await made.flush()
      await made.close()
    }
  })

  afterAll(async () => {
    raw.closeAll()
    await Promise.all(servers.map((server) => server.stop()))
  })

  function layer(prefix: string): RedisChannelLayer {
    const made = new RedisChannelLayer({ hosts: servers.map((server) => server.url), prefix })
    layers.push(made)
    return made
  }

  /** A channel of `made` whose process queue is not on `avoid`'s shard. */
  async function channelOffShard(made: RedisChannelLayer, avoid: number): Promise<string> {
    let channel: string
    do channel = await made.newChannel()
    while (consistentHash(nonLocalName(channel), SHARDS) === avoid)
    return channel
  }

  const receiveSoon = (made: RedisChannelLayer, channel: string, timeoutMs = 3_000): Promise<Message> =>
    made.receive(channel, { signal: AbortSignal.timeout(timeoutMs) })

  it("reaches a member on another shard while the group's shard is stalled, once the group was sent to", async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    const receiver = layer(prefix)
    const group = 'stalled-room'
    const groupShard = consistentHash(group, SHARDS)
    const member = await channelOffShard(receiver, groupShard)
    await receiver.groupAdd(group, member)
    await sender.groupSend(group, { type: 'first' })
    expect(await receiveSoon(receiver, member)).toMatchObject({ type: 'first' })

    // The group's shard holds every command for PAUSE_MS: the plan waits, the copy to the member's queue does not.
    const paused = await clients[groupShard]!.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL')
    expect(paused).toBe('OK')
    const started = Date.now()
    const sending = sender.groupSend(group, { type: 'second' })
    expect(await receiveSoon(receiver, member, PAUSE_MS - 300)).toMatchObject({ type: 'second' })
    expect(Date.now() - started).toBeLessThan(PAUSE_MS - 300)
    await sending
    expect(Date.now() - started).toBeGreaterThanOrEqual(PAUSE_MS - 100)
    expect(sender.stats().sent).toBe(2)
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

    // The first process's members leave: its queue is still on the route the next send uses, so it gets a copy,
    // which reaches no one there and is not counted.
    await first.groupDiscard(group, a1)
    await first.groupDiscard(group, a2)
    await sender.groupSend(group, { type: 'three' })
    expect(sender.stats().sent).toBe(6)
    expect(await receiveSoon(second, b)).toMatchObject({ type: 'three' })
    for (const channel of [a1, a2]) {
      expect(await receiveSoon(first, channel)).toMatchObject({ type: 'one' })
      expect(await receiveSoon(first, channel)).toMatchObject({ type: 'two' })
      await expect(receiveSoon(first, channel, 300)).rejects.toThrow()
    }
  })

  it('keeps every member in send order when sends are not awaited while a process joins', async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    const early = layer(prefix)
    const late = layer(prefix)
    const group = 'busy-room'
    const a = await early.newChannel()
    const b = await late.newChannel()
    await early.groupAdd(group, a)
    const total = 60
    const sends: Promise<void>[] = []
    let joining: Promise<unknown> = Promise.resolve()
    for (let n = 0; n < total; n++) {
      sends.push(sender.groupSend(group, { type: 'tick', n }))
      if (n === 20) joining = late.groupAdd(group, b)
      // A few turns of the event loop between sends, so plans come back while later sends are being made.
      if (n % 5 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all([...sends, joining])

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
    expect(atB.length).toBeGreaterThan(0)
    expect(atB.at(-1)).toBe(total - 1)
    const from = atB[0]!
    expect(atB).toEqual([...Array(total - from).keys()].map((i) => i + from))
  })
})
