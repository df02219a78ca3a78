import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { findOnPath, planRedis, startPrivateRedis, type RunningRedis } from '../setup/provision-redis.js'

const nothingOnPath = (): undefined => undefined

describe('planRedis', () => {
  it('uses REDIS_URL when it is set, without looking for a binary', () => {
    const plan = planRedis({
      env: { REDIS_URL: 'redis://10.0.0.5:6379' },
      findBinary: () => {
        throw new Error('must not look up a binary when REDIS_URL is set')
      },
      isRoot: false,
    })
    expect(plan).toEqual({ kind: 'url', url: 'redis://10.0.0.5:6379' })
  })

  it('treats an empty REDIS_URL as unset', () => {
    const plan = planRedis({ env: { REDIS_URL: '  ' }, findBinary: () => '/usr/bin/redis-server', isRoot: false })
    expect(plan.kind).toBe('binary')
  })

  it('uses redis-server from PATH when there is one', () => {
    const asked: string[] = []
    const plan = planRedis({
      env: {},
      findBinary: (name) => {
        asked.push(name)
        return '/usr/bin/redis-server'
      },
      isRoot: true,
    })
    expect(plan).toEqual({ kind: 'binary', path: '/usr/bin/redis-server' })
    expect(asked).toEqual(['redis-server'])
  })

  it('installs with apt when redis-server is missing and we are root', () => {
    const plan = planRedis({ env: {}, findBinary: nothingOnPath, isRoot: true })
    expect(plan).toEqual({ kind: 'install', command: 'apt-get install -y redis-server' })
  })

  it('fails naming the sudo command and REDIS_URL when redis-server is missing and we are not root', () => {
    const plan = planRedis({ env: {}, findBinary: nothingOnPath, isRoot: false })
    expect(plan.kind).toBe('fail')
    if (plan.kind !== 'fail') return
    expect(plan.message).toContain('sudo apt-get install -y redis-server')
    expect(plan.message).toContain('REDIS_URL')
  })
})

async function ping(url: string): Promise<string> {
  // No retries: a dead server must fail fast instead of being hidden by reconnect attempts.
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  client.on('error', () => undefined)
  try {
    await client.connect()
    return await client.ping()
  } finally {
    client.disconnect()
  }
}

describe('provisioned redis', () => {
  it('answers PING at the injected URL', async () => {
    expect(await ping(inject('redisUrl'))).toBe('PONG')
  })

  // With REDIS_URL from the env the host is the user's choice, so only our own server is held to loopback.
  it.skipIf(!inject('redisServerBin'))('is a private server bound to 127.0.0.1', () => {
    expect(new URL(inject('redisUrl')).hostname).toBe('127.0.0.1')
  })
})

describe('startPrivateRedis', () => {
  const bin = inject('redisServerBin') || findOnPath('redis-server')
  let started: RunningRedis | undefined

  afterEach(async () => {
    await started?.stop()
    started = undefined
  })

  it.skipIf(bin === undefined && process.env.CI !== 'true')(
    'starts a second server on another port and stops it',
    async () => {
      started = await startPrivateRedis(inject('redisServerBin'))
      const shared = new URL(inject('redisUrl'))
      expect(started.port).not.toBe(Number(shared.port))
      expect(new URL(started.url).hostname).toBe('127.0.0.1')
      expect(await ping(started.url)).toBe('PONG')

      await started.stop()
      await expect(ping(started.url)).rejects.toThrow()
      // stop() is idempotent so afterEach can always call it.
      await started.stop()
    },
  )
})
