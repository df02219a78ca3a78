import { afterAll, describe, expect, inject, it } from 'vitest'

import { SCRIPTS } from '../../src/layers/redis/lua-script.js'
import { RawClients, uniquePrefix } from './helpers.js'

const redisUrl = inject('redisUrl')
const raw = new RawClients()

afterAll(() => {
  raw.closeAll()
})

/**
 * group-send.lua run on its own, with the members laid out by hand: which queues get a compact copy (live Switchyard
 * processes, counted per process however their members interleave) and which get channels_redis' format.
 */
describe('the group send plan', () => {
  it('counts interleaved members per live process, and leaves dead processes, look-alike prefixes and normal channels to the channels_redis format', async () => {
    const prefix = uniquePrefix()
    const client = raw.connect(redisUrl)
    const group = `${prefix}:group`
    const registry = `${prefix}:registry`
    const queues = `${prefix}:q:`
    const nowMs = Date.now()
    // In join order (the scores): runs of one process broken by others, as members of several servers join.
    const members = [
      'specific.ab!1',
      'specific.ab!2',
      'specific.cd!1',
      'specific.ab!3!x',
      'specific.abc!1', // starts like `specific.ab` but is another process, not known live
      'chat.normal',
      'specific.cd!2',
      'specific.gone!1',
      'specific.ab!4',
      'specific.cd!3',
      'specific.gone!2',
    ]
    for (const [i, member] of members.entries()) await client.zadd(group, nowMs / 1000 + i / 1000, member)
    await client.hset(registry, `${queues}specific.ab!`, nowMs, `${queues}specific.cd!`, nowMs)
    await client.hset(registry, `${queues}specific.gone!`, nowMs - 60_000)
    const reply = (await SCRIPTS.groupSend.run(
      client,
      [group, registry],
      [queues, nowMs / 1000, 86_400, nowMs, 30_000, 'payload', 60, 60_000, 100],
    )) as [number, number, string[] | (string | string[])[]]
    const [reached, dropped, others] = reply
    expect(reached).toBe(7) // specific.ab 4, specific.cd 3
    expect(dropped).toBe(0)
    expect(others).toEqual([
      `${queues}specific.abc!`,
      ['specific.abc!1'],
      `${queues}chat.normal`,
      ['chat.normal'],
      `${queues}specific.gone!`,
      ['specific.gone!1', 'specific.gone!2'],
    ])
    expect(await client.zrange(`${queues}specific.ab!`, '0', '-1')).toEqual(['payload'])
    expect(await client.zrange(`${queues}specific.cd!`, '0', '-1')).toEqual(['payload'])
    expect(await client.exists(`${queues}specific.gone!`, `${queues}specific.abc!`)).toBe(0)
    const keys = await client.keys(`${prefix}:*`)
    await client.del(...keys)
  })
})
