import { describe, expect } from 'vitest'

import type { TaskStoreTestContext } from './context.js'

/** TaskQueue.settle: a worker's batch of settlements and its next claim in one call. */
export function settleCases({ make, it }: TaskStoreTestContext): void {
  describe('settle', () => {
    it('settles a batch in order, then claims at most `max`, each claim with a token of its own', async () => {
      const layer = await make()
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
      expect(await store.getTaskState('t1')).toMatchObject({
        status: 'retrying',
        attempts: 1,
        lastError: 'Error: later',
      })
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

    it('stores an ack result given in a settlement', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'r-1' })
      const [task] = await layer.tasks.settle('jobs', [], 1, 30_000)
      await layer.tasks.settle('jobs', [{ action: 'ack', task: task!, result: [1, 'two'] }], 0, 0)
      expect(await layer.tasks.getTaskState('r-1')).toMatchObject({ status: 'succeeded', result: [1, 'two'] })
    })

    it('reports a redelivered copy of a succeeded task as already succeeded, without counting an attempt', async () => {
      const layer = await make()
      const store = layer.tasks
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'once' })
      const [task] = await store.settle('jobs', [], 1, 30_000)
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'once' })
      const [copy] = await store.settle('jobs', [{ action: 'ack', task: task! }], 1, 30_000)
      expect(copy).toMatchObject({ taskId: 'once', attempt: 1, alreadySucceeded: true })
      expect(await store.getTaskState('once')).toMatchObject({ status: 'succeeded', attempts: 1 })
    })

    it('refuses a settlement of another channel before changing anything', async () => {
      const layer = await make()
      const store = layer.tasks
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'mine' })
      const [task] = await store.settle('jobs', [], 1, 30_000)
      await expect(store.settle('other', [{ action: 'ack', task: task! }], 0, 0)).rejects.toThrow(TypeError)
      expect(await store.getTaskState('mine')).toMatchObject({ status: 'running' })
    })
  })
}
