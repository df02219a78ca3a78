import { randomBytes } from 'node:crypto'

import type { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'

import { nonLocalName } from '../../src/layers/names.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { consistentHash } from '../../src/layers/redis/shard.js'
import { describeChannelLayer } from '../conformance/describe-channel-layer.js'
import { describeHistory } from '../conformance/history/describe-history.js'
import { taskStoreTestContext } from '../conformance/task-store/context.js'
import { flowCases } from '../conformance/task-store/flow-cases.js'
import { sleep, uniquePrefix, useShardServers } from './helpers.js'

const SHARDS = 3

describe('three Redis shards', () => {
  const shards = useShardServers(SHARDS)
  const layers: RedisChannelLayer[] = []

  afterEach(async () => {
    for (const layer of layers.splice(0)) {
      await layer.flush()
      await layer.close()
    }
  })

  const hosts = (): string[] => shards.urls()

  function layer(prefix: string, options: { hosts?: string[] } = {}): RedisChannelLayer {
    const made = new RedisChannelLayer({ hosts: hosts(), prefix, ...options })
    layers.push(made)
    return made
  }

  /** Which servers hold `key`, by index. */
  async function holders(key: string, among: readonly Redis[] = shards.clients()): Promise<number[]> {
    const found: number[] = []
    for (const [index, client] of among.entries()) if ((await client.exists(key)) === 1) found.push(index)
    return found
  }

  const receiveSoon = (made: RedisChannelLayer, channel: string) =>
    made.receive(channel, { signal: AbortSignal.timeout(3_000) })

  it("queues a process-specific channel's messages on the shard of its non-local name (channels_redis#221)", async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    // A process nobody runs, whose full name and non-local name hash to different shards: its message stays put.
    let channel: string
    do channel = `specific.${randomBytes(16).toString('hex')}!${randomBytes(16).toString('hex')}`
    while (consistentHash(channel, SHARDS) === consistentHash(nonLocalName(channel), SHARDS))
    await sender.send(channel, { type: 'parked' })
    expect(await holders(prefix + nonLocalName(channel))).toEqual([consistentHash(nonLocalName(channel), SHARDS)])

    // A live process reads it from there.
    const receiver = layer(prefix)
    let mine: string
    do mine = await receiver.newChannel()
    while (consistentHash(mine, SHARDS) === consistentHash(nonLocalName(mine), SHARDS))
    await sender.send(mine, { type: 'direct.hello' })
    expect(await receiveSoon(receiver, mine)).toEqual({ type: 'direct.hello' })
  })

  it('delivers a group send to members whose queues live on different shards', async () => {
    const prefix = uniquePrefix()
    const sender = layer(prefix)
    // Node processes until their queues cover every shard (each process queue hashes by its random id).
    const processes = new Map<number, RedisChannelLayer>()
    for (let attempt = 0; attempt < 30 && processes.size < SHARDS; attempt++) {
      const candidate = new RedisChannelLayer({ hosts: hosts(), prefix })
      const shard = consistentHash(`specific.${candidate.clientId}!`, SHARDS)
      if (processes.has(shard)) await candidate.close()
      else {
        layers.push(candidate)
        processes.set(shard, candidate)
      }
    }
    expect([...processes.keys()].sort()).toEqual([0, 1, 2])
    const members: [RedisChannelLayer, string][] = []
    for (const process of processes.values()) {
      for (let i = 0; i < 2; i++) {
        const channel = await process.newChannel()
        await process.groupAdd('spread', channel)
        members.push([process, channel])
      }
    }
    // A normal channel on each shard, read by the sender.
    const normal = [0, 1, 2].map((shard) => {
      for (let i = 0; ; i++) if (consistentHash(`plain-${i}`, SHARDS) === shard) return `plain-${i}`
    })
    for (const channel of normal) await sender.groupAdd('spread', channel)
    // A process that is not a Switchyard one (Django, or dead): it gets channels_redis' format on its shard.
    const foreign = `specific.${randomBytes(16).toString('hex')}!${randomBytes(8).toString('hex')}`
    await sender.groupAdd('spread', foreign)

    await sender.groupSend('spread', { type: 'spread.hello' })
    for (const [process, channel] of members)
      expect(await receiveSoon(process, channel)).toEqual({ type: 'spread.hello' })
    for (const channel of normal) expect(await receiveSoon(sender, channel)).toEqual({ type: 'spread.hello' })
    expect(await holders(prefix + nonLocalName(foreign))).toEqual([consistentHash(nonLocalName(foreign), SHARDS)])
    expect(await holders(`${prefix}:group:spread`)).toEqual([consistentHash('spread', SHARDS)])
  })

  // channels_redis tests/test_utils.py::test_consistent_hash_result for two hosts; three hosts computed with
  // Python's binascii.crc32 as channels_redis does: int((crc32(name) & 0xfff) / (4096 / 3.0)).
  it.each([
    [2, 'key_one', 1],
    [2, 'key_two', 0],
    [2, 'test-group', 1],
    [3, 'key_one', 2],
    [3, 'key_two', 1],
    [3, 'test-group', 2],
    [3, 'chat.lobby', 1],
    [3, 'jobs.email', 0],
  ])('with %i hosts puts channel and group %j on shard %i, as channels_redis does', async (ring, name, shard) => {
    const prefix = uniquePrefix()
    const among = shards.clients().slice(0, ring)
    const made = layer(prefix, { hosts: hosts().slice(0, ring) })
    await made.send(name, { type: 'where.am.i' })
    await made.groupAdd(name, 'member')
    expect(await holders(prefix + name, among)).toEqual([shard])
    expect(await holders(`${prefix}:group:${name}`, among)).toEqual([shard])
  })

  it('leaves every shard’s registry on close, even while a heartbeat is still going from shard to shard', async () => {
    const prefix = uniquePrefix()
    const closing = new RedisChannelLayer({ hosts: hosts(), prefix })
    await closing.newChannel()
    // A new prefix's queue is registered by a heartbeat, which writes to the shards one after another: held up at
    // the second shard while the layer closes, it must not go on to the third after close() has left it.
    await shards.clients()[1]?.client('PAUSE', 300, 'WRITE')
    const registering = closing.newChannel('other')
    await sleep(50)
    await closing.close()
    await registering.catch(() => undefined)
    for (const client of shards.clients()) expect(await client.hlen(`${prefix}:switchyard:processes`)).toBe(0)
  })

  describeChannelLayer(
    'RedisChannelLayer on three shards',
    (options) => new RedisChannelLayer({ hosts: hosts(), prefix: uniquePrefix(), ...options }),
  )

  // A group's history lives on the group's shard; members' process queues on theirs: the sequenced copies cross.
  describeHistory(
    'RedisChannelLayer on three shards',
    (options) => new RedisChannelLayer({ hosts: hosts(), prefix: uniquePrefix(), ...options }),
    {
      makeSibling: (first, options) =>
        new RedisChannelLayer({
          hosts: hosts(),
          prefix: (first as unknown as { readonly options: { readonly prefix: string } }).options.prefix,
          ...options,
        }),
    },
  )

  // A flow's record lives on the shard of its id, each step's task state and the outbox entry of its end on the
  // shard of the step's channel: the flow moves on across all three.
  describe('chains and chords on three shards', () => {
    flowCases(
      taskStoreTestContext((options) => new RedisChannelLayer({ hosts: hosts(), prefix: uniquePrefix(), ...options })),
    )
  })
})
