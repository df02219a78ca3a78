// A cluster node given as `hosts` (the option for single Redis servers) answers commands and blocking reads on keys
// it does not serve with MOVED. The layer says what to change, once, and its reads pause between refusals instead
// of spinning on the node.
import { Redis } from 'ioredis'
import { describe, expect, inject, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { captureLogger } from '../server/helpers.js'
import { sleep, waitFor } from '../support/wait.js'

const ADVICE = /cluster: \{ nodes \}/

/** How many BZPOPMIN calls `node` refused (MOVED counts as a rejected call, Redis 7). */
async function rejectedReads(node: Redis): Promise<number> {
  const stats = await node.info('commandstats')
  return Number(/cmdstat_bzpopmin:.*rejected_calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

/** The first of `candidates` whose key (`keyOf`) `node` does not serve: it answers MOVED for it. */
async function notServedBy(node: Redis, candidates: readonly string[], keyOf: (name: string) => string) {
  for (const name of candidates) {
    try {
      await node.get(keyOf(name))
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('MOVED ')) return name
      throw error
    }
  }
  throw new Error('the node serves every candidate key')
}

describe('a cluster node given as hosts', () => {
  it('logs once that the cluster option is needed, and retries a refused blocking read 10 times a second at most', async () => {
    const url = inject('clusterUrls')[0] ?? ''
    const node = new Redis(url)
    const names = Array.from({ length: 64 }, (_unused, i) => `m${i}`)
    const prefix = await notServedBy(node, names, (name) => `hc${name}:switchyard:processes`)
    const channel = await notServedBy(node, names, (name) => `hc${prefix}${name}`)
    const { logger, lines } = captureLogger()
    const layer = new RedisChannelLayer({ hosts: [url], prefix: `hc${prefix}`, logger })
    const stop = new AbortController()
    const receiving = layer.receive(channel, { signal: stop.signal }).catch(() => undefined)
    try {
      await waitFor('the advice in the log', () => lines.some((line) => ADVICE.test(String(line.msg))))
      await sleep(200)
      const before = await rejectedReads(node)
      await sleep(1_000)
      const refused = (await rejectedReads(node)) - before
      // A 100 ms pause after each refusal: about 10 a second (without it, thousands).
      expect(refused).toBeGreaterThan(0)
      expect(refused).toBeLessThanOrEqual(20)
      expect(lines.filter((line) => ADVICE.test(String(line.msg)))).toHaveLength(1)
    } finally {
      stop.abort()
      await receiving
      await layer.close()
      node.disconnect()
    }
  })
})
