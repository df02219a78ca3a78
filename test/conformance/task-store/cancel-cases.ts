import { pino } from 'pino'
import { describe, expect } from 'vitest'

import { TaskCancelledError } from '../../../src/errors.js'
import { resolveRetryOptions } from '../../../src/worker/backoff.js'
import { TaskRunner } from '../../../src/worker/task-runner.js'
import { claimOne, FAILURE, type TaskStoreTestContext } from './context.js'

/** TaskCancellation (issue 17): `cancel` and what a worker does with a cancelled task. */
export function cancelCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('cancel', () => {
    it('an unknown id resolves undefined and records nothing', async () => {
      const layer = await make()
      expect(await layer.tasks.cancel('nobody')).toBeUndefined()
      expect(await layer.tasks.getTaskState('nobody')).toBeUndefined()
    })

    it('a cancelled queued task never runs; cancel is idempotent', async () => {
      const layer = await make()
      await layer.tasks.declareTaskChannels(['jobs'])
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'doomed' })
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'kept' })
      expect(await layer.tasks.cancel('doomed')).toBe('queued')
      expect(await layer.tasks.getTaskState('doomed')).toMatchObject({ status: 'cancelled', attempts: 0 })
      expect(await layer.tasks.cancel('doomed')).toBe('cancelled')
      const claimed = await layer.tasks.claim('jobs', 10, 30_000)
      expect(claimed.map((task) => task.taskId)).toEqual(['kept'])
      expect(await layer.tasks.getTaskState('doomed')).toMatchObject({ status: 'cancelled', attempts: 0 })
      // Its message is gone, not merely hidden: nothing comes back later.
      clock.advance(60_000)
      expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
    })

    it('a cancelled delayed task (retrying) never runs again and is not dead-lettered', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'later' })
      const task = await claimOne(layer, 'jobs')
      await layer.tasks.retry(task, 5000, FAILURE)
      expect(await layer.tasks.cancel('later')).toBe('retrying')
      clock.advance(10_000)
      expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
      expect(await layer.tasks.getTaskState('later')).toMatchObject({ status: 'cancelled', attempts: 1 })
      expect(await layer.tasks.listDeadLetters('jobs')).toEqual([])
    })

    it('a running task is reported by cancelledAmong; its retry or bury only drops the claim', async () => {
      const layer = await make()
      for (const id of ['r-1', 'r-2', 'r-3']) await layer.send('jobs', { type: 'job.run', idempotencyKey: id })
      const [a, b, c] = await layer.tasks.claim('jobs', 3, 30_000)
      expect(await layer.tasks.cancel('r-1')).toBe('running')
      expect(await layer.tasks.cancel('r-2')).toBe('running')
      expect(await layer.tasks.cancelledAmong([a!, b!, c!])).toEqual([a, b])
      await layer.tasks.retry(a!, 0, FAILURE)
      await layer.tasks.bury(b!, FAILURE)
      clock.advance(1000)
      expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
      expect(await layer.tasks.listDeadLetters('jobs')).toEqual([])
      expect(await layer.tasks.getTaskState('r-1')).toMatchObject({ status: 'cancelled', attempts: 1 })
      expect(await layer.tasks.getTaskState('r-2')).toMatchObject({ status: 'cancelled', attempts: 1 })
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
    })

    it('a handler that ignores the signal and succeeds leaves the task cancelled, its result not stored', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'stubborn' })
      const task = await claimOne(layer, 'jobs')
      await layer.tasks.cancel('stubborn')
      await layer.tasks.ack(task, { result: 'done anyway' })
      const state = await layer.tasks.getTaskState('stubborn')
      expect(state).toMatchObject({ status: 'cancelled' })
      expect(state).not.toHaveProperty('result')
    })

    it('a released or recovered claim of a cancelled task is never claimed again', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'gone-1' })
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'gone-2' })
      const [first, second] = await layer.tasks.claim('jobs', 2, 1000)
      await layer.tasks.cancel('gone-1')
      await layer.tasks.cancel('gone-2')
      await layer.tasks.release([first!])
      clock.advance(1000)
      await layer.tasks.recoverStalled('jobs')
      await layer.tasks.recoverStalled('jobs')
      expect(second).toBeDefined()
      expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
      expect(await layer.tasks.getTaskState('gone-1')).toMatchObject({ status: 'cancelled' })
      expect(await layer.tasks.getTaskState('gone-2')).toMatchObject({ status: 'cancelled' })
    })

    it('keeps a cancelled state while its message waits, then taskStateRetentionMs after it was dropped', async () => {
      const layer = await make({ taskStateRetentionMs: 300 })
      await layer.tasks.declareTaskChannels(['jobs'])
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'waits' })
      await layer.tasks.cancel('waits')
      // Past the retention while still queued: kept, or the message would run once the state is gone.
      await clock.elapse(500)
      expect(await layer.tasks.getTaskState('waits')).toMatchObject({ status: 'cancelled' })
      expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
      await clock.elapse(100)
      expect(await layer.tasks.getTaskState('waits')).toMatchObject({ status: 'cancelled' })
      await clock.elapse(400)
      expect(await layer.tasks.getTaskState('waits')).toBeUndefined()
    })

    it('leaves a succeeded or dead task as it is', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'ok' })
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'ko' })
      const [ok, ko] = await layer.tasks.claim('jobs', 2, 30_000)
      await layer.tasks.ack(ok!)
      await layer.tasks.bury(ko!, FAILURE)
      expect(await layer.tasks.cancel('ok')).toBe('succeeded')
      expect(await layer.tasks.cancel('ko')).toBe('dead')
      expect(await layer.tasks.getTaskState('ok')).toMatchObject({ status: 'succeeded' })
      expect(await layer.tasks.getTaskState('ko')).toMatchObject({ status: 'dead' })
      expect(await layer.tasks.listDeadLetters('jobs')).toHaveLength(1)
    })

    it('a running one cancelled in its process sees ctx.signal abort at once, and is neither retried nor dead-lettered', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'long' })
      let started!: () => void
      const running = new Promise<void>((resolve) => (started = resolve))
      let onAbort!: (reason: unknown) => void
      const aborted = new Promise<unknown>((resolve) => (onAbort = resolve))
      const runner = new TaskRunner({
        store: layer.tasks,
        channel: 'jobs',
        concurrency: 1,
        // Renewal (and the cancel check for other processes' cancels) every 20 s: far later than the abort.
        visibilityMs: 60_000,
        timeoutMs: 30_000,
        retry: resolveRetryOptions({}),
        storeResults: false,
        log: pino({ level: 'silent' }),
        retryOn: () => true,
        random: Math.random,
        handle: async (_message, ctx) => {
          started()
          await new Promise<void>((done) => {
            ctx.signal.addEventListener('abort', () => {
              onAbort(ctx.signal.reason)
              done()
            })
          })
          throw ctx.signal.reason
        },
        onFailure: async () => undefined,
      })
      const run = runner.run()
      await running
      const cancelledAt = performance.now()
      expect(await layer.tasks.cancel('long')).toBe('running')
      const reason = await aborted
      expect(performance.now() - cancelledAt).toBeLessThan(1000)
      expect(reason).toBeInstanceOf(TaskCancelledError)
      await runner.stop(1000)
      await run
      expect(runner.stats).toMatchObject({ processed: 0, failed: 0, retried: 0, dead: 0, cancelled: 1 })
      expect(await layer.tasks.getTaskState('long')).toMatchObject({ status: 'cancelled', attempts: 1 })
      expect(await layer.tasks.listDeadLetters('jobs')).toEqual([])
      expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])
    })
  })
}
