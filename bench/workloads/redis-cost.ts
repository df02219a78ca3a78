/**
 * Redis cost of one groupSend by group size (all members in one Node process), on a private redis-server of its
 * own that logs every command (the probe finds the send's commands in SLOWLOG; see test/support/group-send-cost.ts).
 */
import { Redis } from 'ioredis'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { findOnPath, startRedisServer } from '../../test/setup/provision-redis.js'
import {
  addMembers,
  COST_MESSAGE,
  GroupSendCostProbe,
  QUIET_LAYER_OPTIONS,
  SLOWLOG_ARGS,
  summarizeCosts,
  type GroupSendCost,
} from '../../test/support/group-send-cost.js'
import type { RedisCostResult } from '../harness/result.js'
import type { BenchContext } from './context.js'

const SENDS_PER_SIZE = 3

export async function runRedisCost(context: BenchContext, sizes: readonly number[]): Promise<RedisCostResult[]> {
  const bin = findOnPath('redis-server')
  if (bin === undefined) throw new Error('redis-server is not on PATH (the runner provisions it first)')
  context.progress(`redis cost per groupSend: starting a redis-server that logs every command`)
  const redis = await startRedisServer({ bin, extraArgs: SLOWLOG_ARGS })
  const client = new Redis(redis.url)
  const layer = new RedisChannelLayer({ hosts: [redis.url], prefix: 'benchcost', ...QUIET_LAYER_OPTIONS })
  try {
    await layer.ready()
    const probe = new GroupSendCostProbe(client)
    await probe.calibrate()
    await layer.groupSend('warm-up', COST_MESSAGE) // loads the scripts outside the measurements
    const results: RedisCostResult[] = []
    for (const members of sizes) {
      const group = `room-${members}`
      const channels = await addMembers(layer, group, members)
      const costs: GroupSendCost[] = []
      for (let i = 0; i < SENDS_PER_SIZE; i++) costs.push(await probe.measure(layer, group, channels))
      const cost = summarizeCosts(costs)
      context.progress(
        `redis cost per groupSend: ${members} members, ${cost.roundTrips} round trip(s), ${cost.bytesSent} bytes`,
      )
      results.push({ members, ...cost })
    }
    return results
  } finally {
    await layer.close()
    client.disconnect()
    await redis.stop()
  }
}
