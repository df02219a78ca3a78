import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import {
  InvalidChannelNameError,
  InvalidOptionError,
  LayerClosedError,
  type InMemoryChannelLayer,
} from '../../../src/index.js'
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

describe('MemoryTaskStore.claim', () => {
  it('takes up to max in queue order, each running with attempt 1', async () => {
    const layer = makeLayer()
    for (const type of ['a.task', 'b.task', 'c.task']) await layer.send('jobs', { type })
    const first = await layer.tasks.claim('jobs', 2, 30_000)
    expect(types(first)).toEqual(['a.task', 'b.task'])
    for (const task of first) {
      expect(task).toMatchObject({ channel: 'jobs', attempt: 1, firstAttemptAt: T0, alreadySucceeded: false })
      expect(Object.isFrozen(task)).toBe(true)
      expect(await layer.tasks.getTaskState(task.taskId)).toEqual({
        taskId: task.taskId,
        channel: 'jobs',
        status: 'running',
        attempts: 1,
        firstAttemptAt: T0,
        updatedAt: T0,
      })
    }
    expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['c.task'])
    expect(await layer.tasks.claim('jobs', 5, 30_000)).toEqual([])
    expect(await layer.tasks.claim('elsewhere', 5, 30_000)).toEqual([])
  })

  it('uses a string idempotencyKey as the task id, else one id per stored message and channel', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'keyed', idempotencyKey: 'order-42' })
    await layer.send('jobs', { type: 'same' })
    await layer.send('jobs', { type: 'same' })
    await layer.send('jobs', { type: 'empty.key', idempotencyKey: '' })
    await layer.send('jobs', { type: 'number.key', idempotencyKey: 42 })
    const tasks = await layer.tasks.claim('jobs', 10, 30_000)
    expect(tasks[0]?.taskId).toBe('order-42')
    const derived = tasks.slice(1).map((task) => task.taskId)
    expect(new Set(derived).size).toBe(4)
    for (const id of derived) expect(id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('gives one group send reaching two task channels two task ids', async () => {
    const layer = makeLayer()
    await layer.groupAdd('fan', 'jobs.a')
    await layer.groupAdd('fan', 'jobs.b')
    await layer.groupSend('fan', { type: 'fanned' })
    const a = await claimOne(layer, 'jobs.a')
    await layer.tasks.ack(a)
    const b = await claimOne(layer, 'jobs.b')
    expect(b.message).toBe(a.message)
    expect(b.taskId).not.toBe(a.taskId)
    expect(b.alreadySucceeded).toBe(false)
  })

  it('gives every claim its own payload', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'x', idempotencyKey: 'k' })
    await layer.send('jobs', { type: 'x', idempotencyKey: 'k' })
    const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
    expect(Buffer.isBuffer(a?.payload)).toBe(true)
    expect(a?.payload.equals(b?.payload ?? Buffer.alloc(0))).toBe(false)
    expect(a?.taskId).toBe(b?.taskId)
    expect([a?.attempt, b?.attempt]).toEqual([1, 2])
  })

  it('first moves due delayed messages onto the queue, behind what is queued, without waiting for the timer', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'delayed' }, { delayMs: 5000 })
    await layer.send('jobs', { type: 'queued' })
    expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['queued'])
    vi.setSystemTime(T0 + 5000)
    expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['delayed'])
  })

  it('never claims a message that expired unclaimed, and counts it', async () => {
    const layer = makeLayer({ expiryMs: 1000 })
    await layer.send('jobs', { type: 'stale' })
    vi.advanceTimersByTime(1000)
    expect(await layer.tasks.claim('jobs', 5, 30_000)).toEqual([])
    expect(layer.stats().expired).toBe(1)
  })

  it('validates its arguments', async () => {
    const layer = makeLayer()
    for (const [max, visibilityMs, named] of [
      [0, 1000, 'max'],
      [1.5, 1000, 'max'],
      [1, 0, 'visibilityMs'],
      [1, Number.NaN, 'visibilityMs'],
    ] as const) {
      const claim = layer.tasks.claim('jobs', max, visibilityMs)
      await expect(claim).rejects.toBeInstanceOf(InvalidOptionError)
      await expect(claim).rejects.toThrow(named)
    }
    await expect(layer.tasks.claim('not valid', 1, 1000)).rejects.toBeInstanceOf(InvalidChannelNameError)
  })
})

describe('MemoryTaskStore.ack', () => {
  it('marks the task succeeded, storing a result only when given', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'plain' })
    await layer.send('jobs', { type: 'with.result' })
    const [plain, withResult] = await layer.tasks.claim('jobs', 2, 30_000)
    vi.advanceTimersByTime(10)
    await layer.tasks.ack(plain!)
    await layer.tasks.ack(withResult!, { result: { sent: 3 } })
    const plainState = await layer.tasks.getTaskState(plain!.taskId)
    expect(plainState).toMatchObject({ status: 'succeeded', attempts: 1, updatedAt: T0 + 10 })
    expect(plainState).not.toHaveProperty('result')
    expect(await layer.tasks.getTaskState(withResult!.taskId)).toMatchObject({
      status: 'succeeded',
      result: { sent: 3 },
    })
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
  })

  it('reports a succeeded task as alreadySucceeded without counting an attempt, and keeps its result', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'once', idempotencyKey: 'once-1' })
    await layer.tasks.ack(await claimOne(layer, 'jobs'), { result: 'done' })
    vi.advanceTimersByTime(1000)
    await layer.send('jobs', { type: 'once', idempotencyKey: 'once-1' })
    const duplicate = await claimOne(layer, 'jobs')
    expect(duplicate).toMatchObject({ taskId: 'once-1', alreadySucceeded: true, attempt: 1, firstAttemptAt: T0 })
    expect(await layer.tasks.getTaskState('once-1')).toMatchObject({ status: 'succeeded', updatedAt: T0 })
    await layer.tasks.ack(duplicate)
    expect(await layer.tasks.getTaskState('once-1')).toMatchObject({ status: 'succeeded', attempts: 1, result: 'done' })
  })

  it('forgets a success after taskStateRetentionMs: a later duplicate runs', async () => {
    const layer = makeLayer({ taskStateRetentionMs: 10_000 })
    await layer.send('jobs', { type: 'once', idempotencyKey: 'k' })
    await layer.tasks.ack(await claimOne(layer, 'jobs'))
    vi.advanceTimersByTime(10_000)
    await layer.send('jobs', { type: 'once', idempotencyKey: 'k' })
    expect(await claimOne(layer, 'jobs')).toMatchObject({ alreadySucceeded: false, attempt: 1 })
  })

  it('still marks success for a claim already recovered, so the requeued copy is skipped', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'slow' })
    const slow = await claimOne(layer, 'jobs', 1000)
    vi.advanceTimersByTime(1000)
    await layer.tasks.recoverStalled('jobs')
    expect(await layer.tasks.recoverStalled('jobs')).toBe(1)
    await layer.tasks.ack(slow)
    expect(await layer.tasks.getTaskState(slow.taskId)).toMatchObject({ status: 'succeeded' })
    expect(await claimOne(layer, 'jobs')).toMatchObject({ taskId: slow.taskId, alreadySucceeded: true })
  })
})

describe('MemoryTaskStore.retry', () => {
  it('runs the task again after delayMs, counting attempts and keeping the id and first attempt time', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'flaky' })
    const first = await claimOne(layer, 'jobs')
    vi.advanceTimersByTime(100)
    await layer.tasks.retry(first, 1000, { error: 'try again' })
    expect(await layer.tasks.getTaskState(first.taskId)).toMatchObject({
      status: 'retrying',
      attempts: 1,
      lastError: 'try again',
      updatedAt: T0 + 100,
    })
    vi.advanceTimersByTime(999)
    expect(await layer.tasks.claim('jobs', 1, 30_000)).toEqual([])
    vi.advanceTimersByTime(1)
    const second = await claimOne(layer, 'jobs')
    expect(second).toMatchObject({ taskId: first.taskId, attempt: 2, firstAttemptAt: T0, alreadySucceeded: false })
    expect(second.message).toBe(first.message)
    await layer.tasks.retry(second, 0, { error: 'again' })
    const third = await claimOne(layer, 'jobs')
    expect(third.attempt).toBe(3)
    expect(await layer.tasks.getTaskState(first.taskId)).toMatchObject({ status: 'running', lastError: 'again' })
  })

  it('requeues at the tail, past capacity, never expiring and never dropped when due on a full channel', async () => {
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

  it('does nothing when the claim was lost', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'lost' })
    const task = await claimOne(layer, 'jobs', 1000)
    vi.advanceTimersByTime(1000)
    await layer.tasks.recoverStalled('jobs')
    await layer.tasks.recoverStalled('jobs')
    await layer.tasks.retry(task, 0, FAILURE)
    expect(await layer.tasks.getTaskState(task.taskId)).toMatchObject({ status: 'queued' })
    expect(await layer.tasks.getTaskState(task.taskId)).not.toHaveProperty('lastError')
    expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['lost'])
  })

  it('rejects a bad delayMs', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'x' })
    const task = await claimOne(layer, 'jobs')
    await expect(layer.tasks.retry(task, -1, FAILURE)).rejects.toThrow(/delayMs/)
    await layer.tasks.retry(task, 0, FAILURE)
  })

  it('does not reopen a task that another copy completed', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
    await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
    const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
    await layer.tasks.ack(a!)
    await layer.tasks.retry(b!, 0, FAILURE)
    expect(await layer.tasks.getTaskState('dup')).toMatchObject({ status: 'succeeded' })
    expect(await claimOne(layer, 'jobs')).toMatchObject({ alreadySucceeded: true })
  })
})

describe('MemoryTaskStore.extend, release and recoverStalled', () => {
  it('recovers in two phases: flags a claim past its deadline, requeues it on the next check', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'stuck' })
    await layer.send('other', { type: 'elsewhere' })
    const task = await claimOne(layer, 'jobs', 1000)
    await claimOne(layer, 'other', 1000)
    vi.advanceTimersByTime(999)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    vi.advanceTimersByTime(1)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    expect(await layer.tasks.claim('jobs', 1, 1000)).toEqual([])
    expect(await layer.tasks.recoverStalled('jobs')).toBe(1)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    expect(await layer.tasks.getTaskState(task.taskId)).toMatchObject({ status: 'queued', attempts: 1 })
    expect(await claimOne(layer, 'jobs')).toMatchObject({ taskId: task.taskId, attempt: 2 })
  })

  it('extend pushes the deadline and clears the stalled flag', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'long' })
    const task = await claimOne(layer, 'jobs', 1000)
    vi.advanceTimersByTime(1000)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    await layer.tasks.extend([task], 1000)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    vi.advanceTimersByTime(999)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    vi.advanceTimersByTime(1)
    // The flag set before the extend is gone: this check only flags again.
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(1)
    await layer.tasks.extend([task], 1000)
    await expect(layer.tasks.extend([task], 0)).rejects.toBeInstanceOf(InvalidOptionError)
  })

  it('a late retry, bury or release from a recovered claim never touches the next holder', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'contested' })
    const old = await claimOne(layer, 'jobs', 1000)
    vi.advanceTimersByTime(1000)
    await layer.tasks.recoverStalled('jobs')
    await layer.tasks.recoverStalled('jobs')
    const current = await claimOne(layer, 'jobs', 1000)
    await layer.tasks.retry(old, 0, FAILURE)
    await layer.tasks.bury(old, FAILURE)
    await layer.tasks.release([old])
    expect(await layer.tasks.deadLetterChannels()).toEqual([])
    expect(await layer.tasks.claim('jobs', 1, 1000)).toEqual([])
    expect(await layer.tasks.getTaskState(current.taskId)).toMatchObject({ status: 'running', attempts: 2 })
    // The new holder still holds its claim: its release puts the task back.
    await layer.tasks.release([current])
    expect(await claimOne(layer, 'jobs')).toMatchObject({ taskId: current.taskId, attempt: 2 })
  })

  it('release gives claims back at the tail in the given order without counting the attempt', async () => {
    const layer = makeLayer()
    for (const type of ['a.task', 'b.task', 'c.task']) await layer.send('jobs', { type })
    const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
    vi.advanceTimersByTime(5)
    await layer.tasks.release([b!, a!])
    expect(await layer.tasks.getTaskState(a!.taskId)).toEqual({
      taskId: a!.taskId,
      channel: 'jobs',
      status: 'queued',
      attempts: 0,
      firstAttemptAt: T0,
      updatedAt: T0 + 5,
    })
    const again = await layer.tasks.claim('jobs', 3, 30_000)
    expect(types(again)).toEqual(['c.task', 'b.task', 'a.task'])
    expect(again.map((task) => task.attempt)).toEqual([1, 1, 1])
    await layer.tasks.release([again[0]!])
    await layer.tasks.release([again[0]!])
    expect(types(await layer.tasks.claim('jobs', 3, 30_000))).toEqual(['c.task'])
  })

  it('requeued tasks never expire, whatever expiryMs', async () => {
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

  it('hands a requeued task to a plain receive waiting on the channel', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'x' })
    const task = await claimOne(layer, 'jobs')
    const waiting = layer.receive('jobs')
    await layer.tasks.release([task])
    expect(await waiting).toBe(task.message)
    expect(layer.stats().received).toBe(1)
  })
})

describe('MemoryTaskStore state retention and lifecycle', () => {
  it('keeps a task state taskStateRetentionMs after its last change', async () => {
    const layer = makeLayer({ taskStateRetentionMs: 10_000 })
    await layer.send('jobs', { type: 'a.task' })
    await layer.send('jobs', { type: 'b.task' })
    const [a, b] = await layer.tasks.claim('jobs', 2, 60_000)
    vi.advanceTimersByTime(1000)
    await layer.tasks.ack(b!)
    vi.advanceTimersByTime(1000)
    await layer.tasks.ack(a!)
    vi.advanceTimersByTime(8999)
    expect(await layer.tasks.getTaskState(b!.taskId)).toBeDefined()
    vi.advanceTimersByTime(1)
    expect(await layer.tasks.getTaskState(b!.taskId)).toBeUndefined()
    expect(await layer.tasks.getTaskState(a!.taskId)).toBeDefined()
    vi.advanceTimersByTime(1000)
    expect(await layer.tasks.getTaskState(a!.taskId)).toBeUndefined()
    expect(await layer.tasks.getTaskState('never-seen')).toBeUndefined()
  })

  it('flush forgets claims, states, dead letters and waiting retries', async () => {
    const layer = makeLayer()
    for (const type of ['a.task', 'b.task', 'c.task']) await layer.send('jobs', { type })
    const [a, b, c] = await layer.tasks.claim('jobs', 3, 1000)
    await layer.tasks.retry(a!, 5000, FAILURE)
    await layer.tasks.bury(b!, FAILURE)
    expect(vi.getTimerCount()).toBe(1)
    await layer.flush()
    expect(vi.getTimerCount()).toBe(0)
    vi.advanceTimersByTime(10_000)
    expect(await layer.tasks.claim('jobs', 5, 1000)).toEqual([])
    expect(await layer.tasks.getTaskState(a!.taskId)).toBeUndefined()
    expect(await layer.tasks.deadLetterChannels()).toEqual([])
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    await layer.tasks.retry(c!, 0, FAILURE)
    expect(await takeNow(layer, 'jobs')).toBeUndefined()
  })

  it('rejects every call with LayerClosedError once the layer is closed', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'x' })
    const task = await claimOne(layer, 'jobs')
    await layer.close()
    const store = layer.tasks
    const calls: readonly (() => Promise<unknown>)[] = [
      () => store.claim('jobs', 1, 1000),
      () => store.ack(task),
      () => store.retry(task, 0, FAILURE),
      () => store.bury(task, FAILURE),
      () => store.extend([task], 1000),
      () => store.release([task]),
      () => store.recoverStalled('jobs'),
      () => store.getTaskState(task.taskId),
      () => store.listDeadLetters('jobs'),
      () => store.getDeadLetter('jobs', 'id'),
      () => store.replayDeadLetters('jobs'),
      () => store.purgeDeadLetters('jobs'),
      () => store.deadLetterChannels(),
    ]
    for (const call of calls) await expect(call()).rejects.toBeInstanceOf(LayerClosedError)
  })
})
