import { describe, expect } from 'vitest'

import { claimOne, FAILURE, lostClaim, types, type TaskStoreTestContext } from './context.js'

/** TaskQueue: claim, ack and retry. */
export function queueCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('claim', () => {
    it('takes up to max in queue order, each running with attempt 1', async () => {
      const layer = await make()
      for (const type of ['a.task', 'b.task', 'c.task']) await layer.send('jobs', { type })
      const first = await layer.tasks.claim('jobs', 2, 30_000)
      expect(types(first)).toEqual(['a.task', 'b.task'])
      for (const task of first) {
        expect(task).toMatchObject({
          channel: 'jobs',
          attempt: 1,
          firstAttemptAt: clock.now(),
          alreadySucceeded: false,
        })
        expect(task).not.toHaveProperty('expired')
        expect(await layer.tasks.getTaskState(task.taskId)).toEqual({
          taskId: task.taskId,
          channel: 'jobs',
          status: 'running',
          attempts: 1,
          firstAttemptAt: clock.now(),
          updatedAt: clock.now(),
        })
      }
      expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['c.task'])
      expect(await layer.tasks.claim('jobs', 5, 30_000)).toEqual([])
      expect(await layer.tasks.claim('elsewhere', 5, 30_000)).toEqual([])
    })

    it('hands over the message as sent', async () => {
      const layer = await make()
      const message = { type: 'job.run', userId: 42, tags: ['a', 'b'], nested: { ok: true }, idempotencyKey: 'm-1' }
      await layer.send('jobs', message)
      expect((await claimOne(layer, 'jobs')).message).toEqual(message)
    })

    it('uses a string idempotencyKey as the task id, else one id per send', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'keyed', idempotencyKey: 'order-42' })
      await layer.send('jobs', { type: 'same' })
      await layer.send('jobs', { type: 'same' })
      await layer.send('jobs', { type: 'empty.key', idempotencyKey: '' })
      await layer.send('jobs', { type: 'number.key', idempotencyKey: 42 })
      const tasks = await layer.tasks.claim('jobs', 10, 30_000)
      expect(tasks[0]?.taskId).toBe('order-42')
      const derived = tasks.slice(1).map((task) => task.taskId)
      expect(new Set(derived).size).toBe(4)
      for (const id of derived) expect(id).toMatch(/^[0-9a-f-]{32,36}$/)
    })

    it('gives one group send reaching two task channels two task ids', async () => {
      const layer = await make()
      await layer.groupAdd('fan', 'jobs.a')
      await layer.groupAdd('fan', 'jobs.b')
      await layer.groupSend('fan', { type: 'fanned' })
      const a = await claimOne(layer, 'jobs.a')
      await layer.tasks.ack(a)
      const b = await claimOne(layer, 'jobs.b')
      expect(b.message).toEqual(a.message)
      expect(b.message).toEqual({ type: 'fanned' })
      expect(b.taskId).not.toBe(a.taskId)
      expect(b.alreadySucceeded).toBe(false)
    })

    it('gives every claim a payload of its own, even for two sends of one task', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'x', idempotencyKey: 'k' })
      await layer.send('jobs', { type: 'x', idempotencyKey: 'k' })
      const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
      expect(Buffer.isBuffer(a?.payload)).toBe(true)
      expect(a?.payload.equals(b?.payload ?? Buffer.alloc(0))).toBe(false)
      expect(a?.taskId).toBe(b?.taskId)
      expect([a?.attempt, b?.attempt]).toEqual([1, 2])
    })

    it('first moves due delayed messages onto the queue, behind what is queued', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'delayed' }, { delayMs: 5000 })
      await layer.send('jobs', { type: 'queued' })
      expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['queued'])
      clock.advance(5000)
      expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['delayed'])
    })
  })

  describe('ack', () => {
    it('marks the task succeeded, storing a result only when given', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'plain' })
      await layer.send('jobs', { type: 'with.result' })
      const [plain, withResult] = await layer.tasks.claim('jobs', 2, 30_000)
      clock.advance(10)
      await layer.tasks.ack(plain!)
      await layer.tasks.ack(withResult!, { result: { sent: 3 } })
      const plainState = await layer.tasks.getTaskState(plain!.taskId)
      expect(plainState).toMatchObject({ status: 'succeeded', attempts: 1, updatedAt: clock.now() })
      expect(plainState).not.toHaveProperty('result')
      expect(await layer.tasks.getTaskState(withResult!.taskId)).toMatchObject({
        status: 'succeeded',
        result: { sent: 3 },
      })
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    })

    it('reports a succeeded task as alreadySucceeded without counting an attempt, and keeps its result', async () => {
      const layer = await make()
      const t0 = clock.now()
      await layer.send('jobs', { type: 'once', idempotencyKey: 'once-1' })
      await layer.tasks.ack(await claimOne(layer, 'jobs'), { result: 'done' })
      clock.advance(1000)
      await layer.send('jobs', { type: 'once', idempotencyKey: 'once-1' })
      const duplicate = await claimOne(layer, 'jobs')
      expect(duplicate).toMatchObject({ taskId: 'once-1', alreadySucceeded: true, attempt: 1, firstAttemptAt: t0 })
      expect(await layer.tasks.getTaskState('once-1')).toMatchObject({ status: 'succeeded', updatedAt: t0 })
      await layer.tasks.ack(duplicate)
      expect(await layer.tasks.getTaskState('once-1')).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        result: 'done',
      })
    })

    it('still marks success for a claim already recovered, so the requeued copy is skipped', async () => {
      const layer = await make()
      const slow = await lostClaim(layer, clock, 'jobs', 'slow')
      await layer.tasks.ack(slow)
      expect(await layer.tasks.getTaskState(slow.taskId)).toMatchObject({ status: 'succeeded' })
      expect(await claimOne(layer, 'jobs')).toMatchObject({ taskId: slow.taskId, alreadySucceeded: true })
    })
  })

  describe('retry', () => {
    it('runs the task again after delayMs, counting attempts and keeping the id and first attempt time', async () => {
      const layer = await make()
      const t0 = clock.now()
      await layer.send('jobs', { type: 'flaky' })
      const first = await claimOne(layer, 'jobs')
      clock.advance(100)
      await layer.tasks.retry(first, 1000, { error: 'try again' })
      expect(await layer.tasks.getTaskState(first.taskId)).toMatchObject({
        status: 'retrying',
        attempts: 1,
        lastError: 'try again',
        updatedAt: t0 + 100,
      })
      clock.advance(999)
      expect(await layer.tasks.claim('jobs', 1, 30_000)).toEqual([])
      clock.advance(1)
      const second = await claimOne(layer, 'jobs')
      expect(second).toMatchObject({ taskId: first.taskId, attempt: 2, firstAttemptAt: t0, alreadySucceeded: false })
      expect(second.message).toEqual(first.message)
      await layer.tasks.retry(second, 0, { error: 'again' })
      const third = await claimOne(layer, 'jobs')
      expect(third.attempt).toBe(3)
      expect(await layer.tasks.getTaskState(first.taskId)).toMatchObject({ status: 'running', lastError: 'again' })
    })

    it('requeues at the tail, past capacity, and never expires or drops it', async () => {
      const layer = await make({ capacity: 1, expiryMs: 1000 })
      await layer.tasks.declareTaskChannels(['jobs'])
      await layer.send('jobs', { type: 'retried' })
      const now = await claimOne(layer, 'jobs')
      await layer.send('jobs', { type: 'fills.capacity' })
      await layer.tasks.retry(now, 500, FAILURE)
      clock.advance(5500)
      expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['fills.capacity', 'retried'])
      expect(layer.stats()).toMatchObject({ dropped: 0, expired: 0 })
      expect(await layer.tasks.listDeadLetters('jobs')).toEqual([])
    })

    it('does nothing when the claim was lost', async () => {
      const layer = await make()
      const task = await lostClaim(layer, clock, 'jobs', 'lost')
      await layer.tasks.retry(task, 0, FAILURE)
      expect(await layer.tasks.getTaskState(task.taskId)).not.toHaveProperty('lastError')
      expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['lost'])
    })

    it('does not reopen a task that another copy completed', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
      await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
      const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
      await layer.tasks.ack(a!)
      await layer.tasks.retry(b!, 0, FAILURE)
      expect(await layer.tasks.getTaskState('dup')).toMatchObject({ status: 'succeeded' })
      expect(await claimOne(layer, 'jobs')).toMatchObject({ alreadySucceeded: true })
    })

    it('buries a copy of a completed task without reopening the task', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
      await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
      const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
      await layer.tasks.ack(a!)
      await layer.tasks.bury(b!, FAILURE)
      expect(await layer.tasks.getTaskState('dup')).toMatchObject({ status: 'succeeded', attempts: 2 })
      expect(await layer.tasks.getTaskState('dup')).not.toHaveProperty('lastError')
      expect(await layer.tasks.listDeadLetters('jobs')).toMatchObject([{ taskId: 'dup', error: FAILURE.error }])
      await layer.send('jobs', { type: 'dup', idempotencyKey: 'dup' })
      expect(await claimOne(layer, 'jobs')).toMatchObject({ alreadySucceeded: true })
    })
  })
}
