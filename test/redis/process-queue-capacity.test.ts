import { afterEach, describe, expect, inject, it } from 'vitest'

import { ChannelFullError } from '../../src/errors.js'
import { RedisKeys } from '../../src/layers/redis/keys.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { RawClients, uniquePrefix } from './helpers.js'

const redisUrl = inject('redisUrl')
const raw = new RawClients()
const open: RedisChannelLayer[] = []

afterEach(async () => {
  for (const layer of open.splice(0)) {
    await layer.flush().catch(() => undefined)
    await layer.close()
  }
  raw.closeAll()
})

/** A sender with a channel capacity far from its process queue capacity, so an error shows which one applied. */
function sender(prefix: string): RedisChannelLayer {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix, capacity: 100, processQueueCapacity: 3 })
  open.push(layer)
  return layer
}

async function sendUntilFull(layer: RedisChannelLayer, channel: string, attempts: number): Promise<unknown> {
  for (let i = 0; i < attempts; i++) {
    try {
      await layer.send(channel, { type: 'fill.up', i })
    } catch (error) {
      return error
    }
  }
  return undefined
}

describe('ChannelFullError on a process-specific channel', () => {
  it("names processQueueCapacity when the live process's shared queue is full", async () => {
    const prefix = uniquePrefix()
    const layer = sender(prefix)
    // A live process that reads nothing: registered (as its heartbeat does), with no reader draining its queue.
    const keys = new RedisKeys(prefix)
    await raw.connect(redisUrl).hset(keys.registry, keys.queue('specific.idle!'), String(Date.now()))
    const error = await sendUntilFull(layer, 'specific.idle!a', 10)
    expect(error).toBeInstanceOf(ChannelFullError)
    expect(error).toMatchObject({ channel: 'specific.idle!a', capacity: 3 })
    expect((error as Error).message).toContain('(capacity 3)')
    expect((error as Error).message).toContain('raise `processQueueCapacity`')
    expect(layer.stats().rejected).toBe(1)
  })

  it('names the channel capacity when the queue is no live process', async () => {
    const prefix = uniquePrefix()
    const layer = sender(prefix)
    // Unregistered (a channels_redis process, or one gone): its queue gets the channel's capacity, as in Django.
    const error = await sendUntilFull(layer, 'specific.django!a', 200)
    expect(error).toBeInstanceOf(ChannelFullError)
    expect(error).toMatchObject({ channel: 'specific.django!a', capacity: 100 })
    expect((error as Error).message).toContain('(capacity 100)')
  })
})
