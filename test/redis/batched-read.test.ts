import type { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, it } from 'vitest'

import type { Message } from '../../src/layers/channel-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { info, RawClients, redisServerBin, uniquePrefix } from './helpers.js'

// Private servers, so INFO commandstats counts this file's reads only. The reader takes a group message with one
// BZMPOP (Redis 7+), not a BZPOPMIN and then an empty ZPOPMIN; a Redis without BZMPOP (before 7.0, played here by
// one that renamed it away), or whose ACL denies it, still gets every message, through BZPOPMIN.
const servers: RunningRedis[] = []
const raw = new RawClients()
const layers: RedisChannelLayer[] = []

afterEach(async () => {
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  raw.closeAll()
  for (const server of servers.splice(0)) await server.stop()
})

afterAll(() => {
  raw.closeAll()
})

async function start(extraArgs: readonly string[] = []): Promise<{ url: string; client: Redis }> {
  const server = await startPrivateRedis(redisServerBin(), { extraArgs: [...extraArgs] })
  servers.push(server)
  return { url: server.url, client: raw.connect(server.url) }
}

function layer(url: string, prefix: string): RedisChannelLayer {
  const made = new RedisChannelLayer({ hosts: [url], prefix })
  layers.push(made)
  return made
}

/** Three members of one group in `receiver`, `sends` group messages from `sender`, what each member got. */
async function fanOut(receiver: RedisChannelLayer, sender: RedisChannelLayer, sends: number): Promise<unknown[][]> {
  await Promise.all([receiver.ready(), sender.ready()])
  const members = [await receiver.newChannel(), await receiver.newChannel(), await receiver.newChannel()]
  for (const channel of members) await receiver.groupAdd('room', channel)
  const got: unknown[][] = members.map(() => [])
  const receiving = members.map(async (channel, index) => {
    const signal = AbortSignal.timeout(10_000)
    for (let i = 0; i < sends; i++) {
      const message: Message = await receiver.receive(channel, { signal })
      got[index]?.push(message.seq)
    }
  })
  for (let seq = 0; seq < sends; seq++) {
    await sender.groupSend('room', { type: 'room.message', seq })
    // One at a time, as a paced broadcast arrives: each wakes the reader on its own.
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await Promise.all(receiving)
  return got
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('the process reader', () => {
  it('takes each paced group message with one BZMPOP, and no ZPOPMIN finding the queue empty', async () => {
    const { url, client } = await start()
    const prefix = uniquePrefix()
    const got = await fanOut(layer(url, prefix), layer(url, prefix), 5)
    for (const seqs of got) expect(seqs).toEqual(range(5))
    const stats = await info(client, 'commandstats')
    expect(stats.get('cmdstat_bzmpop.calls')).toBeGreaterThanOrEqual(5)
    expect(stats.get('cmdstat_zpopmin.calls') ?? 0).toBe(0)
    expect(stats.get('cmdstat_bzpopmin.calls') ?? 0).toBe(0)
  })

  it('falls back to BZPOPMIN on a Redis without BZMPOP, and delivers everything', async () => {
    const { url, client } = await start(['--rename-command', 'BZMPOP', ''])
    const prefix = uniquePrefix()
    const got = await fanOut(layer(url, prefix), layer(url, prefix), 5)
    for (const seqs of got) expect(seqs).toEqual(range(5))
    const stats = await info(client, 'commandstats')
    expect(stats.get('cmdstat_bzpopmin.calls')).toBeGreaterThanOrEqual(5)
  })

  it('falls back to BZPOPMIN when an ACL denies BZMPOP (NOPERM), and delivers everything', async () => {
    const { url, client } = await start()
    await client.call('ACL', 'SETUSER', 'default', '-bzmpop')
    const prefix = uniquePrefix()
    const got = await fanOut(layer(url, prefix), layer(url, prefix), 5)
    for (const seqs of got) expect(seqs).toEqual(range(5))
    const stats = await info(client, 'commandstats')
    expect(stats.get('cmdstat_bzpopmin.calls')).toBeGreaterThanOrEqual(5)
  })
})
