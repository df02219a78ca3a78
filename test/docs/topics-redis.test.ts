/**
 * docs/topics/redis.md against a real Redis (the test setup's, each layer under a key prefix of its own): the
 * layer.ts block connects, encrypts, applies its capacity pattern and writes the keys the page lists; `ready()`
 * names an unreachable host; the `switchyard serve` line builds the layer from REDIS_URL and SWITCHYARD_PREFIX;
 * the counters table lists what RedisLayerStats adds.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'

import { Redis } from 'ioredis'
import { describe, expect, inject, it } from 'vitest'

import { InMemoryChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'

import { envWithoutNpmConfig } from '../package/consumer-project.js'
import { firstCodeSpan, readDoc, tableUnder } from '../support/markdown-tables.js'
import { isAlive, spawnProcess, terminateLauncher } from '../support/spawned.js'
import { waitFor } from '../support/wait.js'
import { docBlock, docProject, shellCommands } from './doc-blocks.js'

const PAGE = 'docs/topics/redis.md'
const redisUrl = inject('redisUrl')
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
