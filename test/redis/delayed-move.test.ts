import { afterEach, describe, expect, inject, it } from 'vitest'

import { IDLE_MOVE_MS } from '../../src/layers/redis/delayed-mover.js'
import { RedisKeys } from '../../src/layers/redis/keys.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { RawClients, uniquePrefix, waitFor } from './helpers.js'

// Issue 18: an idle layer no longer runs the delayed-message mover every second; each run learns when the earliest
// waiting message is due and the next run comes then. A message whose sender is gone is still moved on time by a
// process that ran a move after it was sent.
const DELAY_MS = 2_000
const redisUrl = inject('redisUrl')
const open: RedisChannelLayer[] = []
const raw = new RawClients()

afterEach(async () => {
  for (const layer of open.splice(0)) {
    await layer.flush().catch(() => undefined)
    await layer.close()
  }
  raw.closeAll()
})

function layerOn(prefix: string): RedisChannelLayer {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  open.push(layer)
  return layer
}

describe('moving delayed messages on Redis', () => {
  it('moves a closed sender’s delayed message when it comes due, by another process that learned its due time', async () => {
    expect(DELAY_MS).toBeLessThan(IDLE_MOVE_MS) // on time only because the due time was learned
    const prefix = uniquePrefix()
    const sender = new RedisChannelLayer({ hosts: [redisUrl], prefix })
    const sentAt = Date.now()
    await sender.send('jobs', { type: 'job.run', id: 7 }, { delayMs: DELAY_MS })
    await sender.close() // its own mover is gone with it
    const other = layerOn(prefix)
    const message = await other.receive('jobs', { signal: AbortSignal.timeout(IDLE_MOVE_MS + 2_000) })
    const tookMs = Date.now() - sentAt
    expect(message).toEqual({ type: 'job.run', id: 7 })
    expect(tookMs).toBeGreaterThanOrEqual(DELAY_MS)
    expect(tookMs).toBeLessThan(DELAY_MS + 500)
  })

  it('moves its own delayed messages when each comes due, the later one not put off by the earlier', async () => {
    const layer = layerOn(uniquePrefix())
    const sentAt = Date.now()
    await layer.send('later', { type: 'at.late' }, { delayMs: 1_500 })
    await layer.send('sooner', { type: 'at.soon' }, { delayMs: 300 })
    const soon = await layer.receive('sooner', { signal: AbortSignal.timeout(3_000) })
    const soonMs = Date.now() - sentAt
    const late = await layer.receive('later', { signal: AbortSignal.timeout(3_000) })
    const lateMs = Date.now() - sentAt
    expect([soon.type, late.type]).toEqual(['at.soon', 'at.late'])
    expect(soonMs).toBeGreaterThanOrEqual(300)
    expect(soonMs).toBeLessThan(300 + 400)
    expect(lateMs).toBeGreaterThanOrEqual(1_500)
    expect(lateMs).toBeLessThan(1_500 + 400)
  })

  it('moves a task retry onto its queue when it comes due, with no worker claiming meanwhile', async () => {
    const prefix = uniquePrefix()
    const layer = layerOn(prefix)
    const client = raw.connect(redisUrl)
    const queue = new RedisKeys(prefix).queue('jobs')
    await layer.tasks.declareTaskChannels(['jobs'])
    await layer.send('jobs', { type: 'job.run' })
    // The mover's idle pace from here: the retry below is the only thing that can bring it forward.
    await new Promise((resolve) => setTimeout(resolve, 400))
    const [task] = await layer.tasks.claim('jobs', 1, 30_000)
    const retriedAt = Date.now()
    await layer.tasks.retry(task!, 1_000, { error: 'flaky' })
    expect(await client.zcard(queue)).toBe(0)
    await waitFor('the retry on its queue', async () => (await client.zcard(queue)) === 1, {
      timeoutMs: IDLE_MOVE_MS + 1_000,
      intervalMs: 10,
    })
    const tookMs = Date.now() - retriedAt
    expect(tookMs).toBeGreaterThanOrEqual(1_000)
    expect(tookMs).toBeLessThan(1_000 + 400)
  })
})
