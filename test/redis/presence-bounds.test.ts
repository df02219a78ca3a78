import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import type { Message } from '../../src/layers/channel-layer.js'
import { SCRIPTS } from '../../src/layers/redis/lua-script.js'
import { RedisChannelLayer, type RedisLayerOptions } from '../../src/layers/redis/index.js'
import { RawClients, sleep, uniquePrefix } from './helpers.js'

const redisUrl = inject('redisUrl')
const raw = new RawClients()
const layers: RedisChannelLayer[] = []

function layerOn(prefix: string, options?: RedisLayerOptions): RedisChannelLayer {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix, presence: ['chat.*'], ...options })
  layers.push(layer)
  return layer
}

afterEach(async () => {
  vi.restoreAllMocks()
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  raw.closeAll()
})

const channelsOf = async (layer: RedisChannelLayer, group = 'chat.room'): Promise<string[]> =>
  (await layer.presence.list(group)).map((entry) => entry.channel)

describe('Redis presence', () => {
  // Margins of 300 ms either side of each expiry, for timers on a busy two-core machine.
  it('keeps an entry groupExpiryMs after its last join, as a membership', async () => {
    const layer = layerOn(uniquePrefix(), { groupExpiryMs: 800 })
    await layer.presence.join('chat.room', 'user.ada')
    await layer.presence.join('chat.room', 'user.bob')
    await sleep(500)
    await layer.presence.join('chat.room', 'user.bob', { refreshed: true })
    await sleep(500)
    expect(await channelsOf(layer)).toEqual(['user.bob'])
    await sleep(500)
    expect(await channelsOf(layer)).toEqual([])
  })

  it('prunes stale entries before refusing a full join, and announces them', async () => {
    const prefix = uniquePrefix()
    const client = raw.connect(redisUrl)
    const layer = layerOn(prefix, { maxPresence: 2 })
    const watcher = await layer.newChannel()
    await layer.groupAdd('chat.room', watcher)
    await layer.presence.join('chat.room', 'user.ada')
    // An entry of a process that never registered (or was swept long ago): stale at once.
    await client.hset(`${prefix}:switchyard:presence:chat.room`, 'specific.gone!x', `1 ${Date.now()} {}`)
    await layer.presence.join('chat.room', 'user.bob')
    expect(await channelsOf(layer)).toEqual(['user.ada', 'user.bob'])
    const got: Message[] = []
    for (let i = 0; i < 3; i++) got.push(await layer.receive(watcher, { signal: AbortSignal.timeout(2_000) }))
    expect(got).toContainEqual({ type: 'presence.leave', channel: 'specific.gone!x' })
    expect(await client.hkeys(`${prefix}:switchyard:presence:chat.room`)).toEqual(['user.ada', 'user.bob'])
  })

  it('lists 10 000 members in bounded steps, each member once', async () => {
    const prefix = uniquePrefix()
    const layer = layerOn(prefix)
    const own = await layer.newChannel()
    const writer = raw.connect(redisUrl)
    const now = Date.now()
    const fields: string[] = []
    for (let i = 0; i < 9_999; i++) fields.push(`user.u${i}`, `${now} ${now} {"n":${i}}`)
    await writer.hset(`${prefix}:switchyard:presence:chat.big`, ...fields)
    await layer.presence.join('chat.big', own, { me: true })
    const list = vi.spyOn(SCRIPTS.presenceList, 'run')
    const prune = vi.spyOn(SCRIPTS.presencePrune, 'run')
    const entries = await layer.presence.list('chat.big')
    expect(entries).toHaveLength(10_000)
    expect(new Set(entries.map((entry) => entry.channel)).size).toBe(10_000)
    expect(entries.at(-1)).toMatchObject({ channel: own, info: { me: true } })
    // About 1 000 entries a step (HSCAN COUNT), so no single call holds Redis for the whole list.
    expect(list.mock.calls.length).toBeGreaterThanOrEqual(5)
    for (const result of list.mock.results) {
      const reply = (await result.value) as unknown[]
      expect(reply.length).toBeLessThan(2 + 2 * 2_500)
    }
    expect(prune).not.toHaveBeenCalled()
  })
})
