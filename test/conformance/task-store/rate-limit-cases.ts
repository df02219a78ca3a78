import { describe, expect } from 'vitest'

import { FAILURE, type TaskStoreTestContext } from './context.js'

/**
 * TaskQueue: a channel's global rate limit (issue 17 item 2) and the uncounted retry of a `RateLimitedError`. The
 * Redis store times the window with Redis' clock, so the cases let real time pass (`clock.elapse`).
 */
export function rateLimitCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('rate limit', () => {
    it('starts at most max claims in a window; the rest stay queued until it slides', async () => {
      const layer = await make()
      const tasks = layer.tasks
      await tasks.declareRateLimit?.('jobs', { max: 3, perMs: 300 })
      for (let i = 0; i < 5; i++) await layer.send('jobs', { type: 'job.run', n: i })
      expect(await tasks.claim('jobs', 5, 30_000)).toHaveLength(3)
      expect(await tasks.settle('jobs', [], 5, 30_000)).toEqual([])
      const waitMs = (await tasks.rateLimitWaitMs?.('jobs')) ?? 0
      expect(waitMs).toBeGreaterThan(0)
      expect(waitMs).toBeLessThanOrEqual(300)
      await clock.elapse(waitMs + 30)
      expect(await tasks.rateLimitWaitMs?.('jobs')).toBe(0)
      expect((await tasks.settle('jobs', [], 5, 30_000)).map((task) => task.message.n)).toEqual([3, 4])
    })

    it('holds only on its own channel, and the last declaration wins', async () => {
      const layer = await make()
      const tasks = layer.tasks
      await tasks.declareRateLimit?.('jobs', { max: 1, perMs: 60_000 })
      await tasks.declareRateLimit?.('jobs', { max: 2, perMs: 60_000 })
      for (let i = 0; i < 3; i++) await layer.send('jobs', { type: 'job.run', n: i })
      for (let i = 0; i < 3; i++) await layer.send('other', { type: 'job.run', n: i })
      expect(await tasks.claim('jobs', 5, 30_000)).toHaveLength(2)
      expect(await tasks.claim('other', 5, 30_000)).toHaveLength(3)
      expect(await tasks.rateLimitWaitMs?.('other')).toBe(0)
      await tasks.declareRateLimit?.('jobs', undefined)
      expect(await tasks.claim('jobs', 5, 30_000)).toHaveLength(1)
    })

    it('refuses a limit that is not { max, perMs } of positive integers', async () => {
      const layer = await make()
      for (const limit of [{ max: 0, perMs: 1_000 }, { max: 5, perMs: 1.5 }, { max: 5 }, { max: 5, perMs: 9, x: 1 }]) {
        await expect(layer.tasks.declareRateLimit?.('jobs', limit as never)).rejects.toMatchObject({
          code: 'SWY_INVALID_OPTION',
        })
      }
    })
  })

  describe('retry without counting the attempt', () => {
    it('requeues after its delay with the attempt given back', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'slow-1' })
      const [task] = await layer.tasks.claim('jobs', 1, 30_000)
      expect(task?.attempt).toBe(1)
      if (task === undefined) return
      const settlement = { action: 'retry', task, delayMs: 5_000, failure: FAILURE, countAttempt: false } as const
      await layer.tasks.settle('jobs', [settlement], 0, 0)
      expect(await layer.tasks.getTaskState('slow-1')).toMatchObject({ status: 'retrying', attempts: 0 })
      expect(await layer.tasks.claim('jobs', 1, 30_000)).toEqual([])
      clock.advance(5_000)
      const [again] = await layer.tasks.claim('jobs', 1, 30_000)
      expect(again?.attempt).toBe(1)
      expect(await layer.tasks.getTaskState('slow-1')).toMatchObject({ status: 'running', attempts: 1 })
    })
  })
}
