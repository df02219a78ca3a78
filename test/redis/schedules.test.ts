// Periodic tasks on Redis (issue 17): schedules survive a restart of the layer, and of several processes claiming
// the same due tick at once exactly one gets it (schedule-claim.lua's compare-and-set).
import { afterEach, describe, expect, inject, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { uniquePrefix } from '../worker/helpers.js'

const redisUrl = inject('redisUrl')
const opened: RedisChannelLayer[] = []
afterEach(async () => {
  const layers = opened.splice(0)
  await layers[0]?.flush()
  await Promise.all(layers.map((layer) => layer.close()))
})

function open(prefix: string): RedisChannelLayer {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  opened.push(layer)
  return layer
}

describe('schedules on Redis', () => {
  it('are kept by Redis: a new layer on the prefix lists them, with their next run', async () => {
    const prefix = uniquePrefix()
    const created = await open(prefix).tasks.schedule('report', {
      channel: 'reports',
      message: { type: 'report.build', day: 'monday' },
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
    })
    expect(await open(prefix).tasks.listSchedules()).toEqual([created])
  })

  it('give each due tick to exactly one of many concurrent claimers', async () => {
    const prefix = uniquePrefix()
    const layers = [open(prefix), open(prefix), open(prefix), open(prefix)]
    const { nextRunMs } = await layers[0]!.tasks.schedule('tick', {
      channel: 'jobs',
      message: { type: 'job.run' },
      everyMs: 1000,
    })
    for (let round = 0; round < 5; round++) {
      const now = nextRunMs + round * 1000
      const claims = await Promise.all(layers.map((layer) => layer.tasks.claimDueSchedules(now)))
      expect(claims.flat().map((tick) => tick.tickMs)).toEqual([now])
    }
    const [listed] = await layers[1]!.tasks.listSchedules()
    expect(listed).toMatchObject({ id: 'tick', nextRunMs: nextRunMs + 5000, lastRunMs: nextRunMs + 4000 })
  })
})
