import { afterEach, describe, expect, inject, it } from 'vitest'

import { IDLE_MOVE_MS } from '../../src/layers/redis/delayed-mover.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { uniquePrefix } from './helpers.js'

// Issue 18: an idle layer no longer runs the delayed-message mover every second; each run learns when the earliest
// waiting message is due and the next run comes then. A message whose sender is gone is still moved on time by a
// process that ran a move after it was sent.
const DELAY_MS = 2_000
const redisUrl = inject('redisUrl')
const open: RedisChannelLayer[] = []

afterEach(async () => {
  for (const layer of open.splice(0)) {
    await layer.flush().catch(() => undefined)
    await layer.close()
  }
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
})
