// TaskStore.settle on both stores: one call settles a batch and claims up to `max`, each claim with its own token;
// on Redis, task-settle.lua starts plain msgpack claims itself, and its task ids must be exactly the codec's.
import { randomBytes } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'

import type { ChannelLayer } from '../../src/layers/channel-layer.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { SCRIPTS } from '../../src/layers/redis/lua-script.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import type { TaskCapableLayer } from '../../src/tasks/task-store.js'

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

type TaskLayer = ChannelLayer & TaskCapableLayer

function redisLayer(options: { serializer?: 'msgpack' | 'json'; symmetricEncryptionKeys?: string[] } = {}) {
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: `w${randomBytes(6).toString('hex')}`, ...options })
  open.push(layer)
  return layer
}

const makers: [string, () => TaskLayer][] = [
  [
    'memory',
    () => {
      const layer = new InMemoryChannelLayer()
      open.push(layer)
      return layer
    },
  ],
  ['redis', () => redisLayer()],
]

describe.each(makers)('TaskStore.settle (%s)', (_name, makeLayer) => {
  it('settles a batch in order, then claims at most `max`, each claim with a token of its own', async () => {
    const layer = makeLayer()
    const store = layer.tasks
    for (let i = 0; i < 5; i++) await layer.send('jobs', { type: 'job.run', idempotencyKey: `t${i}` })
    const first = await store.settle('jobs', [], 3, 30_000)
    expect(first.map((task) => [task.taskId, task.attempt, task.alreadySucceeded])).toEqual([
      ['t0', 1, false],
      ['t1', 1, false],
      ['t2', 1, false],
    ])
    expect(new Set(first.map((task) => task.payload.toString('hex'))).size).toBe(3)
    for (const task of first) expect(await store.getTaskState(task.taskId)).toMatchObject({ status: 'running' })

    const [a, b, c] = first
    const next = await store.settle(
      'jobs',
      [
        { action: 'ack', task: a! },
        { action: 'retry', task: b!, delayMs: 60_000, failure: { error: 'Error: later' } },
        { action: 'bury', task: c!, failure: { error: 'Error: dead', stack: 'Error: dead\n    at x' } },
      ],
      10,
      30_000,
    )
    // The retried task waits for its delay: only the two never claimed come.
    expect(next.map((task) => task.taskId)).toEqual(['t3', 't4'])
    expect(await store.getTaskState('t0')).toMatchObject({ status: 'succeeded', attempts: 1 })
    expect(await store.getTaskState('t1')).toMatchObject({ status: 'retrying', attempts: 1, lastError: 'Error: later' })
    expect(await store.getTaskState('t2')).toMatchObject({ status: 'dead', attempts: 1, lastError: 'Error: dead' })
    const letters = await store.listDeadLetters('jobs')
    expect(letters.map((letter) => [letter.taskId, letter.stack])).toEqual([['t2', 'Error: dead\n    at x']])

    // Settling again what was settled changes nothing (a resend after a lost reply).
    const again = await store.settle('jobs', [{ action: 'bury', task: c!, failure: { error: 'Error: twice' } }], 0, 0)
    expect(again).toEqual([])
    expect(await store.listDeadLetters('jobs')).toHaveLength(1)
    expect(await store.getTaskState('t2')).toMatchObject({ status: 'dead', lastError: 'Error: dead' })
    expect(await store.settle('jobs', [], 0, 30_000)).toEqual([])
    expect(await store.recoverStalled('jobs')).toBe(0)
  })

  it('reports a redelivered copy of a succeeded task as already succeeded, without counting an attempt', async () => {
    const layer = makeLayer()
    const store = layer.tasks
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'once' })
    const [task] = await store.settle('jobs', [], 1, 30_000)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'once' })
    const [copy] = await store.settle('jobs', [{ action: 'ack', task: task! }], 1, 30_000)
    expect(copy).toMatchObject({ taskId: 'once', attempt: 1, alreadySucceeded: true })
    expect(await store.getTaskState('once')).toMatchObject({ status: 'succeeded', attempts: 1 })
  })

  it('refuses a settlement of another channel before changing anything', async () => {
    const layer = makeLayer()
    const store = layer.tasks
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'mine' })
    const [task] = await store.settle('jobs', [], 1, 30_000)
    await expect(store.settle('other', [{ action: 'ack', task: task! }], 0, 0)).rejects.toThrow(TypeError)
    expect(await store.getTaskState('mine')).toMatchObject({ status: 'running' })
  })
})

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
