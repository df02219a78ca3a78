/**
 * docs/topics/redis.md against a real Redis (the test setup's, each layer under a key prefix of its own): the
 * layer.ts block connects, encrypts, applies its capacity pattern and writes the keys the page lists; `ready()`
 * names an unreachable host; the `switchyard serve` line builds the layer from REDIS_URL and SWITCHYARD_PREFIX;
 * cluster-layer.ts runs on the test setup's Redis Cluster, its keys under the shards' hash tags on every master;
 * replicated-layer.ts's sends are on a replica when they resolve;
 * the counters table lists what RedisLayerStats adds.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'

import { Cluster, Redis } from 'ioredis'
import { describe, expect, inject, it } from 'vitest'

import { InMemoryChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'

import { clusterTags } from '../../src/layers/redis/cluster-slots.js'
import { consistentHash } from '../../src/layers/redis/shard.js'
import { envWithoutNpmConfig } from '../package/consumer-project.js'
import { firstCodeSpan, readDoc, tableUnder } from '../support/markdown-tables.js'
import { isAlive, spawnProcess, terminateLauncher } from '../support/spawned.js'
import { waitFor } from '../support/wait.js'
import { docBlock, docProject, shellCommands, type DocProject } from './doc-blocks.js'

const PAGE = 'docs/topics/redis.md'
const redisUrl = inject('redisUrl')
const clusterUrls = inject('clusterUrls')
const uniquePrefix = (): string => `d${randomBytes(6).toString('hex')}`

/** Every key under `prefix`, found with SCAN. */
async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    keys.push(...found)
  } while (cursor !== '0')
  return keys.sort()
}

/** Every key under `prefix` on each master of `cluster`, by the master's `host:port`. */
async function keysByMaster(cluster: Cluster, prefix: string): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>()
  for (const master of cluster.nodes('master')) {
    found.set(`${master.options.host}:${master.options.port}`, await keysUnder(master, prefix))
  }
  return found
}

/**
 * Imports `file`, a block of the page that builds its layer on REDIS_CLUSTER_NODES (the test cluster), written by
 * `write` (a literal `docProject` call, which the docs harness finds as the block's runner) on a prefix of its own.
 */
async function clusterBlock(
  file: string,
  write: (edit: (file: string, text: string) => string) => Promise<DocProject>,
): Promise<{ prefix: string; layer: RedisChannelLayer }> {
  const prefix = uniquePrefix()
  const saved = process.env.REDIS_CLUSTER_NODES
  process.env.REDIS_CLUSTER_NODES = clusterUrls.join(',')
  try {
    const project = await write((_, text) => text.replace("prefix: 'asgi'", `prefix: '${prefix}'`))
    const { layer } = await project.import<{ layer: RedisChannelLayer }>(file)
    return { prefix, layer }
  } finally {
    if (saved === undefined) Reflect.deleteProperty(process.env, 'REDIS_CLUSTER_NODES')
    else process.env.REDIS_CLUSTER_NODES = saved
  }
}

describe('docs/topics/redis.md', () => {
  it('layer.ts: connects, encrypts with CHANNELS_KEY, applies channelCapacity, writes the keys the page lists', async () => {
    const prefix = uniquePrefix()
    const saved = { REDIS_URL: process.env.REDIS_URL, CHANNELS_KEY: process.env.CHANNELS_KEY }
    Object.assign(process.env, { REDIS_URL: redisUrl, CHANNELS_KEY: 'a long random key for the docs test' })
    const project = await docProject('docs/topics/redis.md', ['layer.ts'], (_, text) =>
      text.replace("prefix: 'asgi'", `prefix: '${prefix}'`),
    )
    const { layer } = await project.import<{ layer: RedisChannelLayer }>('layer.ts')
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Reflect.deleteProperty(process.env, name)
      else process.env[name] = value
    }
    const raw = new Redis(redisUrl)
    try {
      expect(layer.options).toMatchObject({ prefix, capacity: 100, serializer: 'msgpack' })
      // channelCapacity { 'jobs.*': 1000 }: a jobs channel takes 101 messages, another channel 100.
      for (let i = 0; i < 101; i++) await layer.send('jobs.resize', { type: 'image.resize', i })
      for (let i = 0; i < 100; i++) await layer.send('other', { type: 'x.y', i })
      await expect(layer.send('other', { type: 'x.y' })).rejects.toMatchObject({ code: 'SWY_CHANNEL_FULL' })

      const member = await layer.newChannel()
      await layer.groupAdd('room.lobby', member)
      await layer.groupSend('room.lobby', { type: 'chat.message', text: 'plain words' })
      expect(await layer.receive(member)).toEqual({ type: 'chat.message', text: 'plain words' })
      expect(await layer.receive('jobs.resize')).toEqual({ type: 'image.resize', i: 0 })

      // Encrypted at rest: the queued payloads do not contain what was sent.
      const payloads = await raw.zrangeBuffer(`${prefix}jobs.resize`, 0, '-1')
      expect(payloads.length).toBe(100)
      expect(payloads.some((payload) => payload.includes('image.resize'))).toBe(false)

      const keys = await keysUnder(raw, prefix)
      expect(keys).toContain(`${prefix}jobs.resize`)
      expect(keys).toContain(`${prefix}other`)
      expect(keys).toContain(`${prefix}:group:room.lobby`)
      const others = keys.filter(
        (key) => ![`${prefix}jobs.resize`, `${prefix}other`, `${prefix}:group:room.lobby`].includes(key),
      )
      expect(others.length).toBeGreaterThan(0)
      for (const key of others) expect(key.startsWith(`${prefix}:switchyard:`)).toBe(true)

      // A layer without the key cannot read the payloads: it drops them and counts them.
      const stranger = new RedisChannelLayer({ hosts: [redisUrl], prefix })
      try {
        const signal = AbortSignal.timeout(1_500)
        await expect(stranger.receive('jobs.resize', { signal })).rejects.toBeDefined()
        expect(stranger.stats().decodeFailed).toBeGreaterThan(0)
      } finally {
        await stranger.close()
      }
      await layer.flush()
      expect(await keysUnder(raw, `${prefix}jobs`)).toEqual([])
    } finally {
      raw.disconnect()
      await layer.close()
    }
  })

  it('replicated-layer.ts: a send resolves once a replica of its master has it', async () => {
    const { prefix, layer } = await clusterBlock('replicated-layer.ts', (edit) =>
      docProject('docs/topics/redis.md', ['replicated-layer.ts'], edit),
    )
    // Each node on its own connection: the replicas answer reads of their master's slots after READONLY.
    const nodes = clusterUrls.map((url) => new Redis(url))
    try {
      expect(layer.options.waitForReplicas).toEqual({ replicas: 1, timeoutMs: 1_000 })
      const key = `{${clusterTags(prefix, 12)[consistentHash('emails', 12)]!}}emails`
      const replicas: Redis[] = []
      for (const node of nodes) if (((await node.call('ROLE')) as unknown[])[0] === 'slave') replicas.push(node)
      expect(replicas.length).toBe(3)
      for (const replica of replicas) await replica.call('READONLY')
      for (let i = 1; i <= 5; i++) {
        await layer.send('emails', { type: 'email.send', userId: i, idempotencyKey: `welcome-${i}` })
        // Read at once from the replicas: the one that serves the channel's slot has the message already.
        const counts = await Promise.all(replicas.map((replica) => replica.zcard(key).catch(() => 0)))
        expect(counts.reduce((sum, count) => sum + count, 0)).toBe(i)
      }
    } finally {
      await layer.flush()
      for (const node of nodes) node.disconnect()
      await layer.close()
    }
  })

  it("cluster-layer.ts: on a Redis Cluster, keys under the shards' tags on every master; same shards everywhere", async () => {
    const { prefix, layer } = await clusterBlock('cluster-layer.ts', (edit) =>
      docProject('docs/topics/redis.md', ['cluster-layer.ts'], edit),
    )
    // Another process on the same prefix and shards, and one with another number of shards.
    const peer = new RedisChannelLayer({ cluster: { nodes: [...clusterUrls], shards: 12 }, prefix })
    const raw = new Cluster(
      clusterUrls.map((url) => ({ host: new URL(url).hostname, port: Number(new URL(url).port) })),
    )
    let other: RedisChannelLayer | undefined
    try {
      expect(layer.options.cluster).toEqual({ nodes: clusterUrls, shards: 12 })
      expect(layer.options.hosts).toEqual([])

      const member = await layer.newChannel()
      await layer.groupAdd('room.lobby', member)
      await peer.groupSend('room.lobby', { type: 'chat.message', text: 'hello' })
      expect(await layer.receive(member)).toEqual({ type: 'chat.message', text: 'hello' })
      await peer.send('chat', { type: 'chat.message', text: 'queued' })

      // `{<tag>}` where the table has <prefix>: the channel and the group on the shard their names hash to, every
      // shard's registry of processes, and no key outside the twelve tags.
      const tags = clusterTags(prefix, 12)
      await raw.ping()
      let byMaster = new Map<string, string[]>()
      await waitFor('every shard registers the processes', async () => {
        byMaster = await keysByMaster(raw, `{${prefix}:`)
        const keys = [...byMaster.values()].flat()
        return tags.every((tag) => keys.includes(`{${tag}}:switchyard:processes`))
      })
      const keys = [...byMaster.values()].flat()
      expect(keys).toContain(`{${tags[consistentHash('chat', 12)]!}}chat`)
      expect(keys).toContain(`{${tags[consistentHash('room.lobby', 12)]!}}:group:room.lobby`)
      for (const key of keys) expect(tags).toContain(/^\{([^}]+)\}/.exec(key)?.[1])
      // Spread over the masters: each of the three holds some shards.
      expect(byMaster.size).toBe(3)
      for (const [master, held] of byMaster) expect(held.length, master).toBeGreaterThan(0)
      expect(await layer.receive('chat')).toEqual({ type: 'chat.message', text: 'queued' })

      // Another number of shards names other tags: a process using it never sees the message. A channel whose
      // shard's tag is not among the 6-shard tags (shard 0's may be the same) makes that certain.
      other = new RedisChannelLayer({ cluster: { nodes: [...clusterUrls], shards: 6 }, prefix })
      const sixTags = clusterTags(prefix, 6)
      const channel = ['jobs.a', 'jobs.b', 'jobs.c'].find((name) => !sixTags.includes(tags[consistentHash(name, 12)]!))
      expect(channel).toBeDefined()
      await peer.send(channel!, { type: 'job.run', n: 1 })
      await expect(other.receive(channel!, { signal: AbortSignal.timeout(1_000) })).rejects.toBeDefined()
      expect(await layer.receive(channel!)).toEqual({ type: 'job.run', n: 1 })
    } finally {
      await layer.flush()
      await other?.flush()
      raw.disconnect()
      await Promise.all([layer.close(), peer.close(), other?.close()])
    }
  })

  it('ready() fails fast with RedisUnavailableError naming the host, not the password', async () => {
    const layer = new RedisChannelLayer({ hosts: ['redis://:hunter2@127.0.0.1:1/0'], retryWindowMs: 300 })
    try {
      const error = (await layer.ready().catch((caught: unknown) => caught)) as Error & { code?: string }
      expect(error.code).toBe('SWY_REDIS_UNAVAILABLE')
      expect(error.message).toContain('127.0.0.1:1')
      expect(error.message).not.toContain('hunter2')
    } finally {
      await layer.close()
    }
  })

  it('serve-on-redis: `switchyard serve` builds the Redis layer from REDIS_URL with SWITCHYARD_PREFIX', async () => {
    const [command] = shellCommands(docBlock('docs/topics/redis.md', 'serve-on-redis'))
    const match = /^REDIS_URL=(\S+) SWITCHYARD_PREFIX=(\S+) (npx switchyard serve --app app\.ts)$/.exec(command ?? '')
    expect(match, command).not.toBeNull()
    expect(match![2]).toBe('asgi') // the default the page states, and channels_redis'
    // The same line with the test's values: its Redis, a prefix of its own, any free port.
    const prefix = uniquePrefix()
    const project = await docProject('docs/topics/redis.md', [])
    await writeFile(project.path('app.ts'), 'export const application = async () => {}\n')
    const [, ...args] = match![3]!.split(' ')
    const serve = spawnProcess('npx', args, {
      cwd: project.dir,
      env: envWithoutNpmConfig({
        REDIS_URL: redisUrl,
        SWITCHYARD_PREFIX: prefix,
        PORT: '0',
        SWITCHYARD_LOG_LEVEL: 'info',
      }),
    })
    const raw = new Redis(redisUrl)
    let commandPid: number | undefined
    try {
      commandPid = Number((await serve.waitForOutput(/"pid":(\d+)/, 60_000))[1])
      await serve.waitForOutput(
        new RegExp(`channel layer: Redis at ${redisUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}, prefix "${prefix}"`),
        60_000,
      )
      await serve.waitForOutput(/http:\/\/127\.0\.0\.1:\d+/, 30_000)
      // The process registers itself in the background: its keys appear under the prefix shortly.
      await waitFor(
        "the server's bookkeeping under the prefix",
        async () => (await keysUnder(raw, `${prefix}:switchyard:`)).length > 0,
      )
      await terminateLauncher(serve, commandPid)
    } finally {
      raw.disconnect()
      serve.kill()
      if (commandPid !== undefined && isAlive(commandPid)) process.kill(commandPid, 'SIGKILL')
    }
  }, 90_000)

  it('lists the counters RedisLayerStats adds to every layer', async () => {
    const rows = tableUnder(readDoc(PAGE), 'Counters', PAGE)
    const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: uniquePrefix() })
    const memory = new InMemoryChannelLayer()
    try {
      const shared = Object.keys(memory.stats())
      const own = Object.keys(layer.stats()).filter((key) => !shared.includes(key))
      expect(rows.map((row) => firstCodeSpan(row.counter)).sort()).toEqual(own.sort())
    } finally {
      await layer.close()
      await memory.close()
    }
  })

  it('gives the Redis options and their defaults as the reference does', () => {
    const mine = tableUnder(readDoc(PAGE), 'Options', PAGE)
    const reference = tableUnder(readDoc('docs/reference/options.md'), 'Redis layer options', 'options.md')
    expect(mine.map((row) => [firstCodeSpan(row.option), row.default])).toEqual(
      reference.map((row) => [firstCodeSpan(row.option), row.default]),
    )
  })
})
