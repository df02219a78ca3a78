/**
 * Wire compatibility with Django Channels: Switchyard's RedisChannelLayer and channels_redis (Debian bookworm:
 * channels, channels_redis and daphne 4.0.0 on Django 3.2) share one real Redis, both ways, for channels, groups
 * and workers, with and without symmetric encryption. The Django side lives in `django/` (see django-process.ts).
 */
import { randomBytes } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import type WebSocket from 'ws'

import { JsonWebsocketConsumer, type Message } from '../../src/index.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { URLRouter, route } from '../../src/routing/index.js'
import { serve, type RunningServer } from '../../src/server/serve.js'
import { client } from '../server/helpers.js'
import { ensureDjangoChannels } from '../setup/django.js'
import {
  PythonScriptError,
  deletePrefix,
  describeTypes,
  pythonGroupSend,
  pythonReceive,
  pythonSend,
  startDaphne,
  startRunworker,
  tag,
  uniquePrefix,
  type Daphne,
  type DjangoLayerConfig,
  type DjangoProcess,
  type Tagged,
} from './django-process.js'

const redisUrl = inject('redisUrl')
const WAIT_MS = 15_000

/** Forwards `test.message` group messages from the group named in its URL to its client, bytes tagged. */
class NodeGroupConsumer extends JsonWebsocketConsumer<Tagged, Tagged> {
  override async connect(): Promise<void> {
    const group = this.scope.urlRoute?.kwargs.group
    if (typeof group !== 'string') {
      await this.close()
      return
    }
    await this.channelLayer.groupAdd(group, this.channelName) // left automatically on disconnect
    await this.accept()
  }

  async test_message(event: Message): Promise<void> {
    await this.sendJson(tag(event))
  }
}

const nodeApplication = URLRouter([route('/ws/:group/', NodeGroupConsumer.asApp())])

/** A client whose JSON messages are queued from the moment it exists, so none slips past between awaits. */
interface Inbox {
  readonly socket: WebSocket
  next(timeoutMs?: number): Promise<Tagged>
}

async function openInbox(url: string): Promise<Inbox> {
  const socket = client(url) // terminated after each test by helpers.ts
  const queued: Tagged[] = []
  const waiting: ((value: Tagged) => void)[] = []
  socket.on('message', (data: Buffer) => {
    const value = JSON.parse(data.toString()) as Tagged
    const waiter = waiting.shift()
    if (waiter) waiter(value)
    else queued.push(value)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => {
      resolve()
    })
    socket.once('unexpected-response', (_request, response) => {
      reject(new Error(`${url}: handshake refused with HTTP ${String(response.statusCode)}`))
    })
    socket.once('error', reject)
  })
  return {
    socket,
    next: (timeoutMs = WAIT_MS) => {
      const ready = queued.shift()
      if (ready !== undefined) return Promise.resolve(ready)
      return new Promise((resolve, reject) => {
        const waiter = (value: Tagged): void => {
          clearTimeout(timer)
          resolve(value)
        }
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1)
          reject(new Error(`no message on ${url} within ${timeoutMs} ms`))
        }, timeoutMs)
        waiting.push(waiter)
      })
    },
  }
}

const suffix = (): string => randomBytes(4).toString('hex')
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)
const within = (ms = WAIT_MS): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) })

/** Every value kind both sides carry, at the edges of msgpack's encodings. */
const VALUES: Message = {
  type: 'interop.values',
  allBytes: new Uint8Array(256).map((_, i) => i),
  emptyBytes: new Uint8Array(0),
  longBytes: new Uint8Array(70_000).map((_, i) => (i * 31) % 256), // bin 32
  nested: { a: { b: { c: [1, [2, [3, { d: 'deep', e: bytes(7) }]]] } }, emptyMap: {}, emptyList: [] },
  unicode: 'héllo wörld ✓ 日本語 🚀 \u0000 nul',
  'ключ 🔑': 'a unicode key',
  emptyText: '',
  longText: 'ü'.repeat(40_000), // str 32
  floats: [0.1, -2.5, 1.5e-300, 1.7976931348623157e308, 5e-324, Math.PI],
  ints: [
    0,
    1,
    -1,
    127,
    128,
    -32,
    -33,
    255,
    256,
    65_535,
    65_536,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 32 + 1,
    -(2 ** 31),
    -(2 ** 31) - 1,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
  ],
  flags: [true, false, null],
}

beforeAll(ensureDjangoChannels, 600_000) // a fresh machine runs apt-get here

const KEY_CASES = [
  { label: 'unencrypted', keys: undefined },
  { label: 'with symmetric encryption keys', keys: [`interop-key-${randomBytes(16).toString('hex')}`] },
]

describe.each(KEY_CASES)('Django Channels and Switchyard on one Redis, $label', ({ keys }) => {
  // daphne and runworker are started once for this block with `shared`; tests that need no Django process each
  // take a fresh prefix instead.
  const shared: DjangoLayerConfig = { redisUrl, prefix: uniquePrefix(), keys }
  const prefixes = [shared.prefix]
  let daphne: Daphne | undefined
  let worker: DjangoProcess | undefined
  const layers: RedisChannelLayer[] = []
  const servers: RunningServer[] = []

  const fresh = (): DjangoLayerConfig => {
    const config = { redisUrl, prefix: uniquePrefix(), keys }
    prefixes.push(config.prefix)
    return config
  }
  const makeLayer = (config: DjangoLayerConfig): RedisChannelLayer => {
    const layer = new RedisChannelLayer({
      hosts: [redisUrl],
      prefix: config.prefix,
      ...(config.keys ? { symmetricEncryptionKeys: [...config.keys] } : {}),
    })
    layers.push(layer)
    return layer
  }
  const serveNode = async (layer: RedisChannelLayer): Promise<string> => {
    const server = await serve({ application: nodeApplication, layer, port: 0 })
    servers.push(server)
    return server.url.replace(/^http/, 'ws')
  }
  const django = (): { daphne: Daphne; worker: DjangoProcess } => {
    if (!daphne || !worker) throw new Error('the Django processes did not start (see beforeAll)')
    return { daphne, worker }
  }

  beforeAll(async () => {
    const started = await Promise.allSettled([
      startDaphne(shared).then((process) => (daphne = process)),
      startRunworker(shared).then((process) => (worker = process)),
    ])
    for (const result of started) if (result.status === 'rejected') throw result.reason
  }, 60_000)

  afterAll(async () => {
    await Promise.all([daphne?.stop(), worker?.stop()])
    await Promise.all(prefixes.map((prefix) => deletePrefix(redisUrl, prefix)))
  })

  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      for (const process of [daphne, worker]) {
        if (process) console.error(`--- ${process.name} output ---\n${process.output()}`)
      }
    })
  })

  afterEach(async () => {
    // Servers first: their consumers leave their groups through the layer on disconnect.
    await Promise.all(servers.splice(0).map((server) => server.close()))
    await Promise.all(layers.splice(0).map((layer) => layer.close()))
  })

  it('writes what channels_redis writes: keys, payload framing, scores and TTLs', async () => {
    const config = fresh()
    const layer = makeLayer(config)
    const redis = new Redis(redisUrl)
    try {
      const before = Date.now() / 1000
      await layer.send('wire-check', { type: 'wire.check', n: 1 })
      const members = await redis.zrangeBuffer(`${config.prefix}wire-check`, 0, '-1')
      expect(members).toHaveLength(1)
      const member = members[0]!
      const score = Number(await redis.zscore(`${config.prefix}wire-check`, member))
      // 12 random bytes (channels_redis' random prefix), then msgpack or, with keys, a Fernet token.
      const body = member.subarray(12)
      if (config.keys) expect(body.subarray(0, 6).toString('latin1')).toBe('gAAAAA')
      else
        expect(body.toString('hex')).toBe(Buffer.from('\x82\xa4type\xaawire.check\xa1n\x01', 'latin1').toString('hex'))
      // Score: float Unix seconds at send time.
      expect(score).toBeGreaterThanOrEqual(Math.floor(before))
      expect(score).toBeLessThanOrEqual(Date.now() / 1000 + 1)
      // Both sides set a TTL on every write so an abandoned queue vanishes; its length is each side's choice
      // (channels_redis: expiry; Switchyard keeps the queue a little longer to count what expired).
      expect(await redis.ttl(`${config.prefix}wire-check`)).toBeGreaterThan(0)

      const channel = await layer.newChannel()
      expect(channel).toMatch(/^specific\.[0-9a-f]{32}![0-9a-f]{32}$/)
      await layer.groupAdd('wire-group', channel)
      expect(await redis.zscore(`${config.prefix}:group:wire-group`, channel)).not.toBeNull()
      expect(await redis.ttl(`${config.prefix}:group:wire-group`)).toBeGreaterThan(60)

      // And Python reads it.
      const received = await pythonReceive(config, 'wire-check', 10)
      expect(received.message).toEqual({ type: 'wire.check', n: 1 })
    } finally {
      redis.disconnect()
    }
  })

  it("delivers a Python group_send to a Node consumer's WebSocket client", async () => {
    const config = fresh()
    const base = await serveNode(makeLayer(config))
    const group = `py-to-node-${suffix()}`
    const nodeClient = await openInbox(`${base}/ws/${group}/`) // open = joined: the consumer accepts after groupAdd
    const message: Message = { type: 'test.message', text: 'from Django', payload: bytes(0, 1, 2, 255), n: 42 }
    await pythonGroupSend(config, group, message)
    expect(await nodeClient.next()).toEqual(tag(message))
  })

  it("delivers a Django consumer's group_send (daphne) to a Node consumer's client", async () => {
    const { daphne } = django()
    const base = await serveNode(makeLayer(shared))
    const group = `daphne-to-node-${suffix()}`
    const nodeClient = await openInbox(`${base}/ws/${group}/`)
    const djangoClient = await openInbox(`${daphne.wsBase}/ws/group/elsewhere-${suffix()}/`)
    expect(await djangoClient.next()).toEqual({ joined: true })
    const message: Message = { type: 'test.message', text: 'browser to daphne to Switchyard', blob: bytes(9, 8, 7) }
    djangoClient.socket.send(JSON.stringify({ group_send: group, message: tag(message) }))
    expect(await djangoClient.next()).toEqual({ group_sent: group })
    expect(await nodeClient.next()).toEqual(tag(message))
  })

  it("delivers a Node groupSend to Django consumers' clients served by daphne", async () => {
    const { daphne } = django()
    const layer = makeLayer(shared)
    const group = `node-to-django-${suffix()}`
    // Two members in one daphne process share one Redis key: channels_redis gets one copy listing both.
    const first = await openInbox(`${daphne.wsBase}/ws/group/${group}/`)
    const second = await openInbox(`${daphne.wsBase}/ws/group/${group}/`)
    expect(await first.next()).toEqual({ joined: true })
    expect(await second.next()).toEqual({ joined: true })
    const message: Message = {
      type: 'test.message',
      text: 'from Switchyard',
      blob: bytes(0, 255),
      nested: { list: [1, 2.5, 'three'], flag: true, none: null },
    }
    await layer.groupSend(group, message)
    expect(await first.next()).toEqual(tag(message))
    expect(await second.next()).toEqual(tag(message))
  })

  it('fans out to a group with members on both sides, whichever side sends', async () => {
    const { daphne } = django()
    const layer = makeLayer(shared)
    const base = await serveNode(layer)
    const group = `mixed-${suffix()}`
    const nodeClient = await openInbox(`${base}/ws/${group}/`)
    const djangoClient = await openInbox(`${daphne.wsBase}/ws/group/${group}/`)
    expect(await djangoClient.next()).toEqual({ joined: true })

    const fromNode: Message = { type: 'test.message', from: 'node' }
    await layer.groupSend(group, fromNode)
    expect(await nodeClient.next()).toEqual(tag(fromNode))
    expect(await djangoClient.next()).toEqual(tag(fromNode))

    const fromPython: Message = { type: 'test.message', from: 'python' }
    await pythonGroupSend(shared, group, fromPython)
    expect(await nodeClient.next()).toEqual(tag(fromPython))
    expect(await djangoClient.next()).toEqual(tag(fromPython))
  })

  it("hands a Python send('node-tasks') to a Node receive", async () => {
    const config = fresh()
    const layer = makeLayer(config)
    const message: Message = { type: 'task.run', id: 7, data: bytes(1, 2, 3) }
    await pythonSend(config, 'node-tasks', message)
    const received = await layer.receive('node-tasks', within())
    expect(tag(received)).toEqual(tag(message))
    expect(received.data).toBeInstanceOf(Uint8Array)
  })

  it("gets a Django runworker's reply on a Node process-specific channel", async () => {
    django()
    const layer = makeLayer(shared)
    const replyTo = await layer.newChannel()
    const message: Message = {
      type: 'task.run',
      reply_to: replyTo,
      job: `thumbnail-${suffix()}`,
      blob: bytes(0xde, 0xad, 0xbe, 0xef),
      weights: [0.25, -1.5, 3],
    }
    // Receiving first, as a Node worker would: the reply must wake a blocked receive.
    const reply = layer.receive(replyTo, within())
    await layer.send('django-tasks', message)
    // The echo went Node -> Python -> Node, so it also shows each value survived both decoders and encoders.
    expect(tag(await reply)).toEqual({ type: 'task.done', echo: tag(message) })
  })

  it('carries bytes, nested maps, unicode, floats and large ints from Python to Node unchanged', async () => {
    const config = fresh()
    const layer = makeLayer(config)
    await pythonSend(config, 'values-to-node', VALUES)
    const received = await layer.receive('values-to-node', within())
    expect(tag(received)).toEqual(tag(VALUES))
    expect(received.allBytes).toBeInstanceOf(Uint8Array)
    expect(received.emptyBytes).toBeInstanceOf(Uint8Array)
  })

  it('carries the same values from Node to Python unchanged, integers as ints and the rest as floats', async () => {
    const config = fresh()
    const layer = makeLayer(config)
    await layer.send('values-to-python', VALUES)
    const received = await pythonReceive(config, 'values-to-python', 10)
    expect(received.message).toEqual(tag(VALUES))
    expect(received.types).toEqual(describeTypes(VALUES))
  })
})

describe('symmetric key rotation across languages', () => {
  const oldKey = `interop-old-${randomBytes(16).toString('hex')}`
  const newKey = `interop-new-${randomBytes(16).toString('hex')}`
  const prefix = uniquePrefix()
  const layers: RedisChannelLayer[] = []

  afterAll(async () => {
    await Promise.all(layers.map((layer) => layer.close()))
    await deletePrefix(redisUrl, prefix)
  })

  it('decrypts with any listed key and encrypts with the first, as MultiFernet does', async () => {
    const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix, symmetricEncryptionKeys: [newKey, oldKey] })
    layers.push(layer)
    const message: Message = { type: 'rotation.check', secret: bytes(1, 2, 3) }

    // Sent by a Django process still on the old key alone; read by Node, which lists it second.
    await pythonSend({ redisUrl, prefix, keys: [oldKey] }, 'rotation', message)
    expect(tag(await layer.receive('rotation', within()))).toEqual(tag(message))

    // Sent by Node: readable with the new key alone, not with the old one alone.
    await layer.send('rotation', message)
    const error: unknown = await pythonReceive({ redisUrl, prefix, keys: [oldKey] }, 'rotation', 5).catch(
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(PythonScriptError)
    expect((error as PythonScriptError).stderr).toContain('InvalidToken')
    await layer.send('rotation', message)
    const received = await pythonReceive({ redisUrl, prefix, keys: [newKey] }, 'rotation', 10)
    expect(received.message).toEqual(tag(message))
  })
})
