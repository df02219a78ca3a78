/**
 * Group history with Django Channels on one Redis: a Python `group_send` to a history group is sequenced in Redis
 * like a Node one (one Switchyard process takes it from the group's proxy member, history-wire.ts), so Node members
 * get it with its `__position__` and can recover it after being away; and a Django reader of a normal channel in a
 * history group still reads Node's sequenced sends as plain messages. With and without symmetric encryption.
 */
import { randomBytes } from 'node:crypto'

import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'

import { positionOf, type Message } from '../../src/index.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { ensureDjangoChannels } from '../setup/django.js'
import { deletePrefix, pythonGroupSend, pythonReceive, uniquePrefix, type DjangoLayerConfig } from './django-process.js'

const redisUrl = inject('redisUrl')
const within = (ms = 15_000): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) })

beforeAll(ensureDjangoChannels, 600_000) // a fresh machine runs apt-get here

const KEY_CASES = [
  { label: 'unencrypted', keys: undefined },
  { label: 'with symmetric encryption keys', keys: [`interop-key-${randomBytes(16).toString('hex')}`] },
]

describe.each(KEY_CASES)('history groups with Django Channels, $label', ({ keys }) => {
  const prefixes: string[] = []
  const layers: RedisChannelLayer[] = []

  const fresh = (): DjangoLayerConfig => {
    const config = { redisUrl, prefix: uniquePrefix(), keys }
    prefixes.push(config.prefix)
    return config
  }
  const makeLayer = (config: DjangoLayerConfig): RedisChannelLayer => {
    const layer = new RedisChannelLayer({
      hosts: [redisUrl],
      prefix: config.prefix,
      history: { 'hist-*': { size: 50, ttlMs: 60_000 } },
      ...(config.keys ? { symmetricEncryptionKeys: [...config.keys] } : {}),
    })
    layers.push(layer)
    return layer
  }

  afterEach(async () => {
    await Promise.all(layers.splice(0).map((layer) => layer.close()))
  })
  afterAll(async () => {
    await Promise.all(prefixes.map((prefix) => deletePrefix(redisUrl, prefix)))
  })

  it("gives a Python group_send a position, and recovers what a Node channel missed of Python's sends", async () => {
    const config = fresh()
    const layer = makeLayer(config)
    await layer.ready()
    const group = `hist-${randomBytes(4).toString('hex')}`
    const away = await layer.newChannel()
    const joined = await layer.groupAdd(group, away)
    expect(joined.position?.offset).toBe(0)

    for (let n = 1; n <= 3; n++) await pythonGroupSend(config, group, { type: 'py.message', n })
    const seen: Message[] = []
    for (let n = 1; n <= 3; n++) seen.push(await layer.receive(away, within()))
    expect(seen.map((message) => message.n)).toEqual([1, 2, 3])
    expect(seen.map((message) => positionOf(message)?.offset)).toEqual([1, 2, 3])
    const last = positionOf(seen[2]!)!
    expect(last).toEqual({ group, offset: 3, epoch: joined.position?.epoch })

    // Away: the channel leaves, Django sends five more.
    await layer.groupDiscard(group, away)
    for (let n = 4; n <= 8; n++) await pythonGroupSend(config, group, { type: 'py.message', n })
    // The pump sequences them (in Redis); wait until the group's position says so.
    await expect.poll(async () => (await layer.groupHistory(group)).position.offset, { timeout: 15_000 }).toBe(8)

    const back = await layer.newChannel()
    const recovery = await layer.groupAdd(group, back, { recover: { offset: last.offset, epoch: last.epoch } })
    expect(recovery).toEqual({ position: { offset: 8, epoch: last.epoch }, recovered: true })
    const replayed: Message[] = []
    for (let n = 4; n <= 8; n++) replayed.push(await layer.receive(back, within()))
    expect(replayed.map((message) => [message.n, positionOf(message)?.offset])).toEqual([
      [4, 4],
      [5, 5],
      [6, 6],
      [7, 7],
      [8, 8],
    ])

    // And live again: the next Python send arrives after the replay, at offset 9.
    await pythonGroupSend(config, group, { type: 'py.message', n: 9 })
    const live = await layer.receive(back, within())
    expect([live.n, positionOf(live)?.offset]).toEqual([9, 9])
  })

  it('lets a Django reader of a normal channel in a history group read Node sends as plain messages', async () => {
    const config = fresh()
    const layer = makeLayer(config)
    const group = `hist-${randomBytes(4).toString('hex')}`
    const inbox = `dj-inbox-${randomBytes(4).toString('hex')}`
    await layer.groupAdd(group, inbox)
    await layer.groupSend(group, { type: 'node.message', text: 'to Django' })
    const received = await pythonReceive(config, inbox, 10)
    // channels_redis strips the prefix (our position) and `__asgi_channel__`: a plain message, as sent.
    expect(received.message).toEqual({ type: 'node.message', text: 'to Django' })
    // Node keeps it in the history all the same.
    const history = await layer.groupHistory(group)
    expect(history.messages.map((message) => message.text)).toEqual(['to Django'])
  })
})
