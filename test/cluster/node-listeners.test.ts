/**
 * A cluster layer's commands wait for their slot's master connection before going out (cluster-connection.ts
 * `masterReady`); at startup and after a failover every pending command of the shards on that master waits on the
 * same connection. The failover test's workers printed Node's MaxListenersExceededWarning (11 `ready` and `end`
 * listeners) after a SIGKILL; a fresh layer with 30 concurrent sends shows it without one.
 */
import { randomBytes } from 'node:crypto'

import { afterEach, expect, inject, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

const nodes = inject('clusterUrls')
const warnings: Error[] = []
const onWarning = (warning: Error): void => {
  warnings.push(warning)
}
let layer: RedisChannelLayer | undefined

afterEach(async () => {
  process.off('warning', onWarning)
  await layer?.flush()
  await layer?.close()
})

it('lets many commands wait for one node connection without a MaxListenersExceededWarning', async () => {
  process.on('warning', onWarning)
  const opened = new RedisChannelLayer({ cluster: { nodes }, prefix: `t${randomBytes(6).toString('hex')}` })
  layer = opened
  // One channel, so all 30 wait on the connection to the same master, which no command has opened yet.
  await Promise.all(Array.from({ length: 30 }, (_, i) => opened.send('jobs', { type: 'test.message', i })))
  // process 'warning' is emitted on the next tick.
  await new Promise((resolve) => setImmediate(resolve))
  expect(warnings.map((warning) => warning.message)).toEqual([])
})
