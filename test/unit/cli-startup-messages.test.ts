// The one-line explanations the CLI prints when it cannot start, and how it names a channel layer.
import { describe, expect, it } from 'vitest'

import { CommandError } from '../../src/cli/command-error.js'
import { describeLayer } from '../../src/cli/layer-summary.js'
import { explainListenError } from '../../src/cli/listen-error.js'
import { redisUrlFromEnvironment } from '../../src/cli/redis-url.js'
import { InvalidOptionError } from '../../src/errors.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

/** A listen failure as Node reports it. */
function listenError(code: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen', ...fields })
}

describe('explainListenError', () => {
  it('says what to change for each way listening fails, keeping the cause', () => {
    const inUse = listenError('EADDRINUSE', { address: '0.0.0.0', port: 8000 })
    const explained = explainListenError(inUse, { host: '0.0.0.0', portSource: 'default' })
    expect(explained).toBeInstanceOf(CommandError)
    expect(explained?.message).toBe(
      'port 8000 on 0.0.0.0 (the default) is in use by another process; stop it, or pass a --port (0 picks a free one)',
    )
    expect(explained?.cause).toBe(inUse)
    expect(
      explainListenError(listenError('EACCES', { address: '127.0.0.1', port: 80 }), {
        host: undefined,
        portSource: '--port',
      })?.message,
    ).toBe(
      'no permission to listen on port 80 of 127.0.0.1 (from --port): ports below 1024 need privileges; pass another ' +
        '--port of 1024 or more, e.g. 8000',
    )
    expect(
      explainListenError(listenError('EADDRNOTAVAIL', { address: '10.9.9.9', port: 8000 }), {
        host: '10.9.9.9',
        portSource: 'PORT',
      })?.message,
    ).toBe(
      'cannot listen on 10.9.9.9: it is not an address of this machine; pass --host 127.0.0.1 (this machine only) or ' +
        '0.0.0.0 (every interface)',
    )
    expect(
      explainListenError(listenError('ENOTFOUND', { hostname: 'web.invalid' }), {
        host: 'web.invalid',
        portSource: 'default',
      })?.message,
    ).toBe(
      '--host "web.invalid" does not resolve to an address of this machine; pass an IP address such as 127.0.0.1 or 0.0.0.0',
    )
  })

  it('leaves any other error alone', () => {
    expect(explainListenError(new TypeError('boom'), { host: undefined, portSource: 'default' })).toBeUndefined()
    expect(explainListenError('text', { host: undefined, portSource: 'default' })).toBeUndefined()
  })
})

describe('redisUrlFromEnvironment', () => {
  it('takes redis://, rediss:// and unix:// URLs, and treats an empty value as unset', () => {
    expect(redisUrlFromEnvironment({})).toBeUndefined()
    expect(redisUrlFromEnvironment({ REDIS_URL: '' })).toBeUndefined()
    for (const url of ['redis://127.0.0.1:6379/2', 'rediss://:pw@cache.example:6380', 'unix:///run/redis.sock']) {
      expect(redisUrlFromEnvironment({ REDIS_URL: url })).toBe(url)
    }
  })

  it('refuses anything else naming REDIS_URL, never printing its password', () => {
    for (const url of [
      'http://user:hunter2@localhost:6379',
      'localhost:6379',
      'redis//:hunter2@host',
      'redis://h:99999',
    ]) {
      let error: unknown
      try {
        redisUrlFromEnvironment({ REDIS_URL: url })
      } catch (thrown) {
        error = thrown
      }
      expect(error, url).toBeInstanceOf(InvalidOptionError)
      expect((error as Error).message, url).toMatch(/^Expected `REDIS_URL \(environment\)` to be a redis:\/\//)
      expect((error as Error).message, url).not.toContain('hunter2')
    }
  })
})

describe('describeLayer', () => {
  it('names in-memory and Redis layers, every Redis host without its password, and the prefix', async () => {
    const memory = new InMemoryChannelLayer()
    const redis = new RedisChannelLayer({
      hosts: ['redis://:hunter2@127.0.0.1:1/3', 'rediss://127.0.0.1:2'],
      prefix: 'shop',
      retryWindowMs: 50,
    })
    try {
      expect(describeLayer(memory)).toBe('in memory')
      expect(describeLayer(redis)).toBe('Redis at redis://127.0.0.1:1/3, rediss://127.0.0.1:2, prefix "shop"')
    } finally {
      await Promise.all([memory.close(), redis.close()])
    }
  })

  it('names a cluster layer by its seed nodes, without their password, and the prefix', async () => {
    const cluster = new RedisChannelLayer({
      cluster: { nodes: ['redis://:hunter2@127.0.0.1:1', 'redis://127.0.0.1:2'] },
      prefix: 'shop',
      retryWindowMs: 50,
    })
    try {
      expect(describeLayer(cluster)).toBe('Redis Cluster via redis://127.0.0.1:1, redis://127.0.0.1:2, prefix "shop"')
    } finally {
      await cluster.close()
    }
  })

  it('names any other layer by its class', async () => {
    class CustomLayer extends InMemoryChannelLayer {}
    class OtherLayer {
      readonly kind = 'other'
    }
    const custom = new CustomLayer()
    expect(describeLayer(custom)).toBe('in memory')
    await custom.close()
    expect(describeLayer(new OtherLayer() as never)).toBe('OtherLayer')
  })
})
