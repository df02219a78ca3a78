// On Redis, task-settle.lua starts plain msgpack claims itself, and its task ids must be exactly the codec's. What
// settle does on every store is in test/conformance/task-store/settle-cases.ts.
import { randomBytes } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import type { ChannelLayer } from '../../src/layers/channel-layer.js'
import { SCRIPTS } from '../../src/layers/redis/lua-script.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'

const redisUrl = inject('redisUrl')
const open: ChannelLayer[] = []
const clients: Redis[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const layer of open.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  for (const client of clients.splice(0)) client.disconnect()
})

function redisLayer(options: { serializer?: 'msgpack' | 'json'; symmetricEncryptionKeys?: string[] } = {}) {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: `w${randomBytes(6).toString('hex')}`, ...options })
  open.push(layer)
  return layer
}

describe('task-settle.lua reads task ids as the codec does', () => {
  const cases: [string, Record<string, unknown>, 'key' | 'hash'][] = [
    ['a string idempotencyKey', { type: 'job.run', idempotencyKey: 'k-1' }, 'key'],
    ['a long one (str16)', { type: 'job.run', idempotencyKey: 'x'.repeat(300) }, 'key'],
    ['no idempotencyKey', { type: 'job.run', n: 1 }, 'hash'],
    ['an empty idempotencyKey', { type: 'job.run', idempotencyKey: '' }, 'hash'],
    ['a bytes idempotencyKey', { type: 'job.run', idempotencyKey: new Uint8Array([107, 45, 50]) }, 'hash'],
    ['a numeric idempotencyKey', { type: 'job.run', idempotencyKey: 7 }, 'hash'],
    ['one only nested deeper', { type: 'job.run', data: { idempotencyKey: 'inner' }, list: [1, 'a', null] }, 'hash'],
    ['one after nested values', { type: 'job.run', data: { a: [1.5, -3, 70000, true] }, idempotencyKey: 'k-2' }, 'key'],
  ]

  it.each(cases)('with %s', async (_label, message, expected) => {
    const layer = redisLayer()
    const raw = new Redis(redisUrl)
    clients.push(raw)
    await layer.send('jobs', message as { type: string })
    const secondCall = vi.spyOn(SCRIPTS.taskStart, 'run')
    const [task] = await layer.tasks.settle('jobs', [], 1, 30_000)
    // Started by the claiming call itself: one round trip.
    expect(secondCall).not.toHaveBeenCalled()
    expect(task).toBeDefined()
    if (expected === 'key') expect(task!.taskId).toBe(message.idempotencyKey)
    else expect(task!.taskId).toMatch(/^[0-9a-f]{32}$/)
    expect(task!.attempt).toBe(1)
    // Started under that id and no other.
    const states = await raw.keys(`${layer.options.prefix}:switchyard:task:*`)
    expect(states).toEqual([`${layer.options.prefix}:switchyard:task:${task!.taskId}`])
    expect(await layer.tasks.getTaskState(task!.taskId)).toMatchObject({ status: 'running', attempts: 1 })
  })

  it.each([
    ['JSON payloads', { serializer: 'json' as const }],
    ['encrypted payloads', { symmetricEncryptionKeys: ['a-secret-key-for-the-test'] }],
  ])('leaves %s to the worker, which starts them in a second call', async (_label, options) => {
    const layer = redisLayer(options)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'opaque-1' })
    await layer.send('jobs', { type: 'job.run', n: 2 })
    const secondCall = vi.spyOn(SCRIPTS.taskStart, 'run')
    const claimed = await layer.tasks.settle('jobs', [], 5, 30_000)
    expect(secondCall).toHaveBeenCalledTimes(1)
    expect(claimed.map((task) => [task.attempt, task.alreadySucceeded])).toEqual([
      [1, false],
      [1, false],
    ])
    expect(claimed[0]?.taskId).toBe('opaque-1')
    expect(await layer.tasks.getTaskState('opaque-1')).toMatchObject({ status: 'running', attempts: 1 })
    await layer.tasks.settle('jobs', [{ action: 'ack', task: claimed[0]! }], 0, 0)
    expect(await layer.tasks.getTaskState('opaque-1')).toMatchObject({ status: 'succeeded', attempts: 1 })
  })
})
