import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import {
  addMembers,
  COST_MESSAGE,
  GroupSendCostProbe,
  QUIET_LAYER_OPTIONS,
  SLOWLOG_ARGS,
  summarizeCosts,
  type GroupSendCost,
  type Member,
} from '../support/group-send-cost.js'
import { RawClients, redisServerBin, uniquePrefix } from './helpers.js'

// A measurement that is also a test: what one groupSend costs Redis, by member count (see the probe's header).
const SENDS_PER_SIZE = 3

let server: RunningRedis | undefined
const raw = new RawClients()
let client: Redis
let probe: GroupSendCostProbe
const layers: RedisChannelLayer[] = []

beforeAll(async () => {
  server = await startPrivateRedis(redisServerBin(), { extraArgs: [...SLOWLOG_ARGS] })
  client = raw.connect(server.url)
  probe = new GroupSendCostProbe(client)
  await probe.calibrate()
})

afterAll(async () => {
  for (const layer of layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  raw.closeAll()
  await server?.stop()
})

function layer(prefix: string): RedisChannelLayer {
  const made = new RedisChannelLayer({ hosts: [server!.url], prefix, ...QUIET_LAYER_OPTIONS })
  layers.push(made)
  return made
}

function measure(sender: RedisChannelLayer, group: string, members: readonly Member[]): Promise<GroupSendCost> {
  return probe.measure(sender, group, members)
}

describe('what one groupSend costs Redis', () => {
  it('does not grow in round trips or bytes with the members of one process; two processes get two copies', async () => {
    const rows: (readonly [string, GroupSendCost])[] = []
    const prefix = uniquePrefix()
    const node = layer(prefix)
    await node.ready()
    // Warm up: the scripts are loaded (EVAL after NOSCRIPT) outside the measurements.
    await node.groupSend('warm-up', COST_MESSAGE)

    for (const size of [10, 1_000, 10_000]) {
      const group = `room-${size}`
      const members = await addMembers(node, group, size)
      const costs: GroupSendCost[] = []
      for (let i = 0; i < SENDS_PER_SIZE; i++) costs.push(await measure(node, group, members))
      for (const cost of costs) {
        expect(cost.roundTrips).toBe(1)
        expect(cost.copies).toBe(1)
      }
      rows.push([`${size} members, 1 process`, summarizeCosts(costs)])
    }

    // 1 000 members, 500 in each of two processes; the first one sends.
    const other = layer(prefix)
    await other.ready()
    const spread = [...(await addMembers(node, 'room-spread', 500)), ...(await addMembers(other, 'room-spread', 500))]
    const spreadCosts: GroupSendCost[] = []
    for (let i = 0; i < SENDS_PER_SIZE; i++) spreadCosts.push(await measure(node, 'room-spread', spread))
    for (const cost of spreadCosts) {
      expect(cost.roundTrips).toBe(1)
      expect(cost.copies).toBe(2)
    }
    rows.push(['1000 members, 2 processes', summarizeCosts(spreadCosts)])

    console.log(
      [
        'groupSend cost per call (median of 3 on a private redis-server; round trips, bytes and µs are the',
        "send's own commands, from SLOWLOG; Redis read in all: INFO, with the readers' BZPOPMIN/ZPOPMIN):",
        '| group                     | round trips | bytes sent | script µs | copies queued | reader cmds | Redis read in all |',
        '| ------------------------- | ----------- | ---------- | --------- | ------------- | ----------- | ----------------- |',
        ...rows
          .map(([name, cost]) =>
            [
              name.padEnd(25),
              String(cost.roundTrips).padStart(11),
              String(cost.bytesSent).padStart(10),
              String(cost.scriptUsec).padStart(9),
              String(cost.copies).padStart(13),
              String(cost.readerCommands).padStart(11),
              String(cost.bytesIn).padStart(17),
            ].join(' | '),
          )
          .map((line) => `| ${line} |`),
      ].join('\n'),
    )
    const bytes = new Map(rows.map(([name, cost]) => [name, cost.bytesSent]))
    const small = bytes.get('10 members, 1 process')!
    expect(small).toBeGreaterThan(0)
    expect(bytes.get('1000 members, 1 process')!).toBeLessThanOrEqual(small * 1.5)
    expect(bytes.get('10000 members, 1 process')!).toBeLessThanOrEqual(small * 1.5)
  })
})
