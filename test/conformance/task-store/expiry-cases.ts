import { describe, expect } from 'vitest'

import { EXPIRED_TASK_ERROR, expiredTaskDetail } from '../../../src/tasks/expired-tasks.js'
import { claimOne, FAILURE, type TaskLayer, type TaskStoreTestContext } from './context.js'

/** Claims what is due, burying claims flagged `expired` as a worker does (a store may bury them itself instead). */
async function claimAsWorker(layer: TaskLayer, channel: string): Promise<string[]> {
  const claimed = await layer.tasks.claim(channel, 100, 30_000)
  const run: string[] = []
  for (const task of claimed) {
    if (task.expired === true) {
      expect(task.attempt).toBe(0)
      const stack = expiredTaskDetail(layer.tasks.options?.taskExpiryMs, 0)
      await layer.tasks.bury(task, { error: EXPIRED_TASK_ERROR, stack })
    } else {
      run.push(task.taskId)
    }
  }
  return run
}

/** Task channels, task expiry and retention: how long tasks wait, and how long their traces stay. */
export function expiryCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('task channels and expiry', () => {
    it('a declared task channel records a send as queued and keeps it past expiryMs', async () => {
      const layer = await make({ expiryMs: 1000 })
      await layer.tasks.declareTaskChannels(['jobs'])
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'waits' })
      expect(await layer.tasks.getTaskState('waits')).toEqual({
        taskId: 'waits',
        channel: 'jobs',
        status: 'queued',
        attempts: 0,
        updatedAt: clock.now(),
      })
      clock.advance(60_000)
      expect(await claimOne(layer, 'jobs')).toMatchObject({ taskId: 'waits', attempt: 1 })
      expect(layer.stats().expired).toBe(0)
    })

    it('the taskChannels option makes channels task channels from the first send', async () => {
      const layer = await make({ expiryMs: 1000, taskChannels: ['emails', 'jobs.*'] })
      await layer.send('emails', { type: 'email.send', idempotencyKey: 'e-1' })
      await layer.send('jobs.x', { type: 'job.run', idempotencyKey: 'j-1' })
      await layer.send('jobs.x', { type: 'job.run', idempotencyKey: 'j-2' }, { delayMs: 100 })
      await layer.send('plain', { type: 'plain', idempotencyKey: 'p-1' })
      for (const id of ['e-1', 'j-1', 'j-2'])
        expect(await layer.tasks.getTaskState(id)).toMatchObject({ status: 'queued' })
      expect(await layer.tasks.getTaskState('p-1')).toBeUndefined()
      clock.advance(60_000)
      expect(await claimAsWorker(layer, 'jobs.x')).toEqual(['j-1', 'j-2'])
    })

    it('dead-letters a task that waited past taskExpiryMs as `expired`, never running it; a replay does', async () => {
      const layer = await make({ taskChannels: ['jobs'], taskExpiryMs: 150 })
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'late-1' })
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'late-2' })
      clock.advance(200)
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'fresh' })
      expect(await claimAsWorker(layer, 'jobs')).toEqual(['fresh'])
      const letters = await layer.tasks.listDeadLetters('jobs')
      expect(letters.map((letter) => [letter.taskId, letter.error, letter.attempts]).sort()).toEqual([
        ['late-1', EXPIRED_TASK_ERROR, 0],
        ['late-2', EXPIRED_TASK_ERROR, 0],
      ])
      expect(letters[0]?.stack).toMatch(/longer than taskExpiryMs \(150 ms\)/)
      expect(await layer.tasks.getTaskState('late-1')).toMatchObject({ status: 'dead', lastError: EXPIRED_TASK_ERROR })
      expect(await layer.tasks.replayDeadLetters('jobs')).toBe(2)
      // Both died in the same millisecond: the contract orders replays by nothing finer.
      expect((await claimAsWorker(layer, 'jobs')).sort()).toEqual(['late-1', 'late-2'])
    })

    it('a retried task waits for taskExpiryMs anew from when it comes due', async () => {
      const layer = await make({ taskChannels: ['jobs'], taskExpiryMs: 1000 })
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'again' })
      await layer.tasks.retry(await claimOne(layer, 'jobs'), 5000, FAILURE)
      clock.advance(5000)
      expect(await claimAsWorker(layer, 'jobs')).toEqual(['again'])
    })
  })

  describe('retention', () => {
    it('keeps a finished task state taskStateRetentionMs after its last change, an unfinished one for good', async () => {
      const layer = await make({ taskStateRetentionMs: 300 })
      for (const type of ['a.task', 'b.task']) await layer.send('jobs', { type })
      const [done, running] = await layer.tasks.claim('jobs', 2, 60_000)
      await layer.tasks.ack(done!)
      await clock.elapse(100)
      expect(await layer.tasks.getTaskState(done!.taskId)).toMatchObject({ status: 'succeeded' })
      await clock.elapse(400)
      expect(await layer.tasks.getTaskState(done!.taskId)).toBeUndefined()
      expect(await layer.tasks.getTaskState(running!.taskId)).toMatchObject({ status: 'running' })
      expect(await layer.tasks.getTaskState('never-seen')).toBeUndefined()
    })

    it('forgets a success after taskStateRetentionMs: a later duplicate runs', async () => {
      const layer = await make({ taskStateRetentionMs: 300 })
      await layer.send('jobs', { type: 'once', idempotencyKey: 'k' })
      await layer.tasks.ack(await claimOne(layer, 'jobs'))
      await clock.elapse(500)
      await layer.send('jobs', { type: 'once', idempotencyKey: 'k' })
      expect(await claimOne(layer, 'jobs')).toMatchObject({ alreadySucceeded: false, attempt: 1 })
    })
  })
}
