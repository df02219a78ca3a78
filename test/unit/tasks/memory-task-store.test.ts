// What only the in-memory store does: it hands out the stored message objects themselves, frozen, and keeps a
// retry on one shared timer. What every task store does is in test/conformance/task-store/ (describeTaskStore).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import type { InMemoryChannelLayer } from '../../../src/index.js'
import type { ClaimedTask } from '../../../src/tasks/task-store.js'
import { FAILURE, makeLayer, T0, takeNow } from './helpers.js'

const types = (tasks: readonly ClaimedTask[]): string[] => tasks.map((task) => task.message.type)

async function claimOne(layer: InMemoryChannelLayer, channel: string, visibilityMs = 30_000): Promise<ClaimedTask> {
  const [task] = await layer.tasks.claim(channel, 1, visibilityMs)
  if (task === undefined) throw new Error(`nothing to claim on ${channel}`)
  return task
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('MemoryTaskStore claims', () => {
  it('hands out frozen claims of the stored message itself, across retries, groups and receives', async () => {
    const layer = makeLayer()
    await layer.groupAdd('fan', 'jobs.a')
    await layer.groupAdd('fan', 'jobs.b')
    await layer.groupSend('fan', { type: 'fanned' })
    const a = await claimOne(layer, 'jobs.a')
    expect(Object.isFrozen(a)).toBe(true)
    const b = await claimOne(layer, 'jobs.b')
    expect(b.message).toBe(a.message)
    await layer.tasks.retry(a, 0, FAILURE)
    expect((await claimOne(layer, 'jobs.a')).message).toBe(a.message)
    const waiting = layer.receive('jobs.b')
    await layer.tasks.release([b])
    expect(await waiting).toBe(b.message)
    expect(layer.stats().received).toBe(1)
  })

  it('never claims a message that expired unclaimed, and counts it', async () => {
    const layer = makeLayer({ expiryMs: 1000 })
    await layer.send('jobs', { type: 'stale' })
    vi.advanceTimersByTime(1000)
    expect(await layer.tasks.claim('jobs', 5, 30_000)).toEqual([])
    expect(layer.stats().expired).toBe(1)
  })
})

// A channel a worker claims from without declaring it: its plain sends still expire, what the store requeues never.
describe('MemoryTaskStore on a channel never declared a task channel', () => {
  it('requeues a retry at the tail past capacity, never expiring and never dropped when due on a full channel', async () => {
    const layer = makeLayer({ capacity: 1, expiryMs: 1000 })
    await layer.send('jobs', { type: 'retried' })
    const now = await claimOne(layer, 'jobs')
    await layer.send('jobs', { type: 'fills.capacity' })
    await layer.tasks.retry(now, 500, FAILURE)
    vi.advanceTimersByTime(500)
    vi.advanceTimersByTime(5000)
    expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['retried'])
    expect(layer.stats()).toMatchObject({ dropped: 0, expired: 1 })
  })

  it('never expires a released or recovered task, whatever expiryMs', async () => {
    const layer = makeLayer({ expiryMs: 1000 })
    await layer.send('jobs', { type: 'released' })
    await layer.send('jobs', { type: 'stalled' })
    const [released] = await layer.tasks.claim('jobs', 2, 1000)
    await layer.tasks.release([released!])
    vi.advanceTimersByTime(1000)
    await layer.tasks.recoverStalled('jobs')
    await layer.tasks.recoverStalled('jobs')
    await layer.send('jobs', { type: 'fresh' })
    vi.advanceTimersByTime(60_000)
    expect(types(await layer.tasks.claim('jobs', 5, 1000))).toEqual(['released', 'stalled'])
    expect(layer.stats().expired).toBe(1)
  })
})

describe('MemoryTaskStore timers', () => {
  it('keeps a waiting retry on the layer timer, which flush clears', async () => {
    const layer = makeLayer()
    for (const type of ['a.task', 'b.task']) await layer.send('jobs', { type })
    const [a, b] = await layer.tasks.claim('jobs', 2, 1000)
    await layer.tasks.retry(a!, 5000, FAILURE)
    await layer.tasks.retry(b!, 6000, FAILURE)
    expect(vi.getTimerCount()).toBe(1)
    await layer.flush()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(10_000)
    expect(await takeNow(layer, 'jobs')).toBeUndefined()
  })
})
