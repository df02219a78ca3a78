// A Redis that refuses writes for a passing state (here `min-replicas-to-write 1` with no replica: NOREPLICAS; the
// same path covers READONLY from a master a failover just demoted, LOADING and MASTERDOWN): the command never ran,
// so the layer sends it again until `retryWindowMs`, then fails with RedisUnavailableError naming the refusal.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

import { RedisUnavailableError } from '../../src/index.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'
import { RawClients, redisServerBin, sleep, uniquePrefix } from './helpers.js'

const RETRY_WINDOW_MS = 1_500

describe('a Redis that refuses writes for a while', () => {
  let server: RunningRedis | undefined
  const raw = new RawClients()
  const layers: RedisChannelLayer[] = []

  beforeAll(async () => {
    server = await startPrivateRedis(redisServerBin(), { extraArgs: ['--min-replicas-to-write', '1'] })
  })

  afterEach(async () => {
    await raw.connect(server!.url).config('SET', 'min-replicas-to-write', '1')
    for (const layer of layers.splice(0)) await layer.close()
  })

  afterAll(async () => {
    raw.closeAll()
    await server?.stop()
  })

  function layer(): RedisChannelLayer {
    const made = new RedisChannelLayer({ hosts: [server!.url], prefix: uniquePrefix(), retryWindowMs: RETRY_WINDOW_MS })
    layers.push(made)
    return made
  }

  it('sends again once Redis takes writes, within retryWindowMs: the message is queued once', async () => {
    const made = layer()
    const admin = raw.connect(server!.url)
    const sending = made.send('jobs', { type: 'job.run', n: 1 })
    await sleep(300)
    await admin.config('SET', 'min-replicas-to-write', '0')
    await sending
    expect(await made.receive('jobs', { signal: AbortSignal.timeout(2_000) })).toEqual({ type: 'job.run', n: 1 })
    expect(await admin.zcard(`${made.options.prefix}jobs`)).toBe(0)
  })

  it('fails with RedisUnavailableError naming the refusal after retryWindowMs, and leaves nothing behind', async () => {
    const made = layer()
    const started = performance.now()
    const error = await made.send('jobs', { type: 'job.run' }).then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(error).toBeInstanceOf(RedisUnavailableError)
    expect((error as Error).message).toContain('it refused the command: NOREPLICAS')
    expect(((error as Error).cause as Error).message).toMatch(/^NOREPLICAS /)
    expect(performance.now() - started).toBeGreaterThanOrEqual(RETRY_WINDOW_MS - 50)
    await raw.connect(server!.url).config('SET', 'min-replicas-to-write', '0')
    expect(await raw.connect(server!.url).zcard(`${made.options.prefix}jobs`)).toBe(0)
  })
})
