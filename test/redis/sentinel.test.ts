import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { describeChannelLayer } from '../conformance/describe-channel-layer.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, startSentinel, uniquePrefix, type RunningSentinel } from './helpers.js'

const MASTER_NAME = 'mymaster'

describe('Redis through Sentinel', () => {
  let master: RunningRedis | undefined
  let sentinel: RunningSentinel | undefined
  const raw = new RawClients()

  beforeAll(async () => {
    const bin = redisServerBin()
    master = await startPrivateRedis(bin)
    sentinel = await startSentinel(bin, master.port, MASTER_NAME)
  })

  afterAll(async () => {
    raw.closeAll()
    await sentinel?.stop()
    await master?.stop()
  })

  /** Read when a test makes a layer: the servers start in beforeAll, after the suite is declared. */
  function sentinelHost(): { sentinels: { host: string; port: number }[]; name: string } {
    if (sentinel === undefined) throw new Error('the sentinel is not running')
    return { sentinels: [{ host: '127.0.0.1', port: sentinel.port }], name: MASTER_NAME }
  }

  it('finds the master through the sentinel and writes there', async () => {
    const prefix = uniquePrefix()
    const layer = new RedisChannelLayer({ hosts: [sentinelHost()], prefix })
    try {
      await layer.ready()
      await layer.send('via-sentinel', { type: 'hello.sentinel' })
      const onMaster = raw.connect(master!.url)
      expect(await onMaster.zcard(`${prefix}via-sentinel`)).toBe(1)
      expect(await layer.receive('via-sentinel', { signal: AbortSignal.timeout(2_000) })).toEqual({
        type: 'hello.sentinel',
      })
    } finally {
      await layer.flush()
      await layer.close()
    }
  })

  describeChannelLayer(
    'RedisChannelLayer via Sentinel',
    (options) => new RedisChannelLayer({ hosts: [sentinelHost()], prefix: uniquePrefix(), ...options }),
  )
})
