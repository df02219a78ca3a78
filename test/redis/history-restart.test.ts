/**
 * Group history across a Redis restart without persistence: the history is lost, so the epoch changes; members
 * are re-added by their processes (into the history members, with the proxy), positions start again at 1, and a
 * channel that recovers with the old epoch is told `recovered: false` rather than handed a wrong replay.
 */
import { afterEach, expect, it } from 'vitest'

import { positionOf } from '../../src/index.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { freeLoopbackPort, startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, uniquePrefix, waitFor } from './helpers.js'

const bin = redisServerBin()
const raw = new RawClients()
const layers: RedisChannelLayer[] = []
const servers: RunningRedis[] = []
const within = (ms = 3_000): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) })

afterEach(async () => {
  raw.closeAll()
  await Promise.all(layers.splice(0).map((made) => made.close()))
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

it('starts a new epoch after Redis lost everything, re-adds members, and refuses to recover the old one', async () => {
  const port = await freeLoopbackPort()
  servers.push(await startPrivateRedis(bin, { port }))
  const options = {
    hosts: [`redis://127.0.0.1:${port}`],
    prefix: uniquePrefix(),
    retryWindowMs: 3_000,
    history: { 'chat.*': { size: 10, ttlMs: 60_000 } },
  }
  const sender = new RedisChannelLayer(options)
  const receiver = new RedisChannelLayer(options)
  layers.push(sender, receiver)
  await Promise.all([sender.ready(), receiver.ready()])
  const member = await receiver.newChannel()
  const { position: joined } = await receiver.groupAdd('chat.room', member)
  for (let n = 1; n <= 3; n++) await sender.groupSend('chat.room', { type: 'chat.message', n })
  for (let n = 1; n <= 3; n++) await receiver.receive(member, within())
  const before = (await sender.groupHistory('chat.room')).position
  expect(before).toEqual({ offset: 3, epoch: joined?.epoch })

  await servers[0]!.stop()
  servers.length = 0
  servers.push(await startPrivateRedis(bin, { port }))
  await waitFor('both layers to reconnect', () => sender.stats().reconnects >= 1 && receiver.stats().reconnects >= 1)
  const check = raw.connect(`redis://127.0.0.1:${port}`)
  await waitFor('the receiver to re-add its history membership', async () =>
    (await check.zrange(`${options.prefix}:group:chat.room:members`, 0, '-1')).includes(member),
  )

  await sender.groupSend('chat.room', { type: 'chat.message', n: 4 })
  const after = positionOf(await receiver.receive(member, within()))
  expect(after?.offset).toBe(1)
  expect(after?.epoch).not.toBe(before.epoch)

  const late = await receiver.newChannel()
  expect(await receiver.groupAdd('chat.room', late, { recover: before })).toEqual({
    position: { offset: 1, epoch: after?.epoch },
    recovered: false,
  })
  await sender.flush()
})
