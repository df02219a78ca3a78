import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, inject, it } from 'vitest'

import type { Message } from '../../src/layers/channel-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

const redisUrl = inject('redisUrl')
const open: RedisChannelLayer[] = []

function layer(prefix: string, capacity: number): RedisChannelLayer {
  const made = new RedisChannelLayer({ hosts: [redisUrl], prefix, capacity })
  open.push(made)
  return made
}

afterEach(async () => {
  for (const made of open.splice(0)) {
    await made.flush().catch(() => undefined)
    await made.close()
  }
})

/** Receives `count` messages on `channel`, in a loop that starts after `startAfter` resolves. */
async function drain(target: RedisChannelLayer, channel: string, count: number, startAfter: Promise<void>) {
  await startAfter
  const got: Message[] = []
  // A missing message ends the loop rather than hanging the test; the caller's assertions then show which.
  const signal = AbortSignal.timeout(10_000)
  try {
    for (let i = 0; i < count; i++) got.push(await target.receive(channel, { signal }))
  } catch (error) {
    if (!signal.aborted) throw error
  }
  return got.map((message) => message.seq)
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('a group burst larger than the local buffers (backpressure)', () => {
  it('reaches every member without a drop when the members keep up, at a small capacity', async () => {
    const prefix = `b${randomBytes(6).toString('hex')}`
    const receiver = layer(prefix, 10)
    const publisher = layer(prefix, 10)
    await Promise.all([receiver.ready(), publisher.ready()])
    const members = [await receiver.newChannel(), await receiver.newChannel(), await receiver.newChannel()]
    for (const channel of members) await receiver.groupAdd('burst', channel)
    let published!: () => void
    const allPublished = new Promise<void>((resolve) => (published = resolve))
    // The members start receiving only once all 60 are in Redis: without backpressure the reader would take the
    // whole burst at once and each 10-message buffer would drop 50.
    const receiving = members.map((channel) => drain(receiver, channel, 60, allPublished))
    for (let seq = 0; seq < 60; seq++) await publisher.groupSend('burst', { type: 'burst.item', seq })
    published()
    const received = await Promise.all(receiving)
    expect(receiver.stats().dropped).toBe(0)
    for (const seqs of received) expect(seqs).toEqual(range(60))
  })

  it('stops waiting for a member that takes nothing, so the others still get everything', async () => {
    const prefix = `b${randomBytes(6).toString('hex')}`
    const receiver = layer(prefix, 10)
    const publisher = layer(prefix, 10)
    await Promise.all([receiver.ready(), publisher.ready()])
    const stuck = await receiver.newChannel()
    const live = await receiver.newChannel()
    await receiver.groupAdd('burst', stuck)
    await receiver.groupAdd('burst', live)
    const receiving = drain(receiver, live, 40, Promise.resolve())
    for (let seq = 0; seq < 40; seq++) await publisher.groupSend('burst', { type: 'burst.item', seq })
    const started = Date.now()
    expect(await receiving).toEqual(range(40))
    // One stall (250 ms) at most, not one per batch.
    expect(Date.now() - started).toBeLessThan(2_000)
    // The stuck member kept what fits its capacity and dropped the rest, as any full channel does.
    expect(receiver.stats().dropped).toBe(30)
    expect(await drain(receiver, stuck, 10, Promise.resolve())).toEqual(range(10))
  })
})
