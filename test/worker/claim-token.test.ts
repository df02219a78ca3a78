import { randomBytes } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterEach, expect, inject, it } from 'vitest'

import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

const redisUrl = inject('redisUrl')
const cleanup: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const step of cleanup.splice(0)) await step()
})

it("a late worker's retry cannot touch the claim another worker holds after recovery", async () => {
  const prefix = `k${randomBytes(6).toString('hex')}`
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  const raw = new Redis(redisUrl)
  cleanup.push(async () => {
    await layer.flush()
    await layer.close()
    raw.disconnect()
  })
  await layer.send('jobs', { type: 'job.run', idempotencyKey: 'token-1' })
  const [first] = await layer.tasks.claim('jobs', 1, 1)
  expect(first?.taskId).toBe('token-1')
  // The first worker stalls: its claim passes its deadline twice and goes back to the queue.
  await new Promise((resolve) => setTimeout(resolve, 10))
  expect(await layer.tasks.recoverStalled('jobs', 0)).toBe(0)
  expect(await layer.tasks.recoverStalled('jobs', 0)).toBe(1)
  const [second] = await layer.tasks.claim('jobs', 1, 60_000)
  expect(second?.taskId).toBe('token-1')
  expect(second?.attempt).toBe(2)
  // The stalled worker wakes up and fails its attempt: nothing happens to the live claim.
  await layer.tasks.retry(first!, 10, { error: 'late failure' })
  expect(await raw.zcard(`${prefix}:switchyard:inflight:jobs`)).toBe(1)
  expect(await raw.zcard(`${prefix}:switchyard:delayed:jobs`)).toBe(0)
  await layer.tasks.ack(second!)
  expect(await layer.tasks.getTaskState('token-1')).toMatchObject({ status: 'succeeded', attempts: 2 })
  expect(await raw.zcard(`${prefix}:switchyard:inflight:jobs`)).toBe(0)
})
