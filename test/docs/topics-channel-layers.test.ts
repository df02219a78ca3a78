/**
 * docs/topics/channel-layers.md: the tour runs as its comments say, layer.ts picks the layer from REDIS_URL, and
 * the rooms server delivers a notice POSTed over HTTP to the sockets of that room only; the options table gives
 * the defaults of DEFAULT_LAYER_OPTIONS.
 */
import { afterEach, describe, expect, inject, it } from 'vitest'
import WebSocket from 'ws'

import { DEFAULT_LAYER_OPTIONS, InMemoryChannelLayer, type ChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'

import { firstCodeSpan, readDoc, tableUnder } from '../support/markdown-tables.js'
import { docProject } from './doc-blocks.js'

const PAGE = 'docs/topics/channel-layers.md'
const savedRedisUrl = process.env.REDIS_URL

afterEach(() => {
  if (savedRedisUrl === undefined) delete process.env.REDIS_URL
  else process.env.REDIS_URL = savedRedisUrl
})

/** A socket whose JSON messages are queued from the start, so none slips past between awaits. */
async function openSocket(url: string): Promise<{ socket: WebSocket; next: (ms: number) => Promise<unknown> }> {
  const socket = new WebSocket(url)
  const queued: unknown[] = []
  socket.on('message', (data: Buffer) => queued.push(JSON.parse(data.toString())))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  const next = async (ms: number): Promise<unknown> => {
    const deadline = Date.now() + ms
    while (queued.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    return queued.shift()
  }
  return { socket, next }
}

describe('docs/topics/channel-layers.md', () => {
  it('tour.ts: a job received, a group message, a receive stopped by its signal', async () => {
    const project = await docProject('docs/topics/channel-layers.md', ['tour.ts'])
    const tour = await project.import<{ job: unknown; me: string; greeting: unknown; stopped: unknown }>('tour.ts')
    expect(tour.job).toEqual({ type: 'thumbnail.make', imageId: 42 })
    expect(tour.me).toMatch(/^specific\.[0-9a-f]{32}![0-9a-f]{32}$/)
    expect(tour.greeting).toEqual({ type: 'chat.message', text: 'hello' })
    expect(tour.stopped).toEqual(new Error('nothing came'))
  })

  it('layer.ts: in memory without REDIS_URL, Redis with it', async () => {
    delete process.env.REDIS_URL
    const memory = await (
      await docProject('docs/topics/channel-layers.md', ['layer.ts'])
    ).import<{
      layer: ChannelLayer
    }>('layer.ts')
    expect(memory.layer).toBeInstanceOf(InMemoryChannelLayer)
    await memory.layer.close()

    process.env.REDIS_URL = inject('redisUrl')
    const redis = await (
      await docProject('docs/topics/channel-layers.md', ['layer.ts'])
    ).import<{
      layer: ChannelLayer
    }>('layer.ts')
    expect(redis.layer).toBeInstanceOf(RedisChannelLayer)
    expect(redis.layer instanceof RedisChannelLayer && redis.layer.options.prefix).toBe('asgi')
    await redis.layer.close()
  })

  it('rooms.ts and server.ts: a notice POSTed to a room reaches its sockets, and only those', async () => {
    delete process.env.REDIS_URL
    const project = await docProject(
      'docs/topics/channel-layers.md',
      ['layer.ts', 'rooms.ts', 'server.ts'],
      (file, text) => (file === 'server.ts' ? text.replace('port: 8000', 'port: 0') : text),
    )
    const { server } = await project.import<{ server: { url: string; close(): Promise<void> } }>('server.ts')
    const { layer } = await project.import<{ layer: ChannelLayer }>('layer.ts')
    const ws = server.url.replace(/^http/, 'ws')
    const lobby = await openSocket(`${ws}/ws/rooms/lobby/`)
    const kitchen = await openSocket(`${ws}/ws/rooms/kitchen/`)
    try {
      // The consumers joined their groups before accepting; the sockets are open, so the memberships exist.
      const post = (room: string, body: unknown): Promise<Response> =>
        fetch(`${server.url}/rooms/${room}/notices`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      expect((await post('lobby', { text: 'closing in 5 minutes' })).status).toBe(204)
      expect(await lobby.next(2_000)).toEqual({ type: 'room.notice', text: 'closing in 5 minutes' })
      expect(await kitchen.next(200)).toBeUndefined()
      expect((await post('lobby', { words: 'no text' })).status).toBe(400)
      expect((await post('no%20spaces', { text: 'x' })).status).toBe(400)
      expect((await post('empty-room', { text: 'nobody hears this' })).status).toBe(204)
      expect(layer.stats()).toMatchObject({ groupSends: 2, sent: 1, dropped: 0 })
    } finally {
      lobby.socket.terminate()
      kitchen.socket.terminate()
      await server.close()
      await layer.close()
    }
  })

  it('gives the defaults of DEFAULT_LAYER_OPTIONS', () => {
    const rows = tableUnder(readDoc(PAGE), 'Options', PAGE)
    const defaults: Record<string, unknown> = { ...DEFAULT_LAYER_OPTIONS }
    expect(rows.map((row) => firstCodeSpan(row.option)).sort()).toEqual(
      ['capacity', 'channelCapacity', 'expiryMs', 'groupExpiryMs', 'maxMessageBytes', 'logger'].sort(),
    )
    for (const row of rows) {
      const name = firstCodeSpan(row.option)!
      if (name in defaults) expect(Number(firstCodeSpan(row.default)?.replaceAll('_', ''))).toBe(defaults[name])
      else expect(row.default).not.toMatch(/^`/)
    }
  })
})
