import { describe, expect } from 'vitest'

import { claimOne, FAILURE, lostClaim, types, type TaskStoreTestContext } from './context.js'

/** TaskQueue: a claim's visibility deadline, extend, release and the two-phase stalled recovery. */
export function visibilityCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('visibility: recoverStalled, extend and release', () => {
    it('recovers in two phases: flags a claim past its deadline, requeues it on the next check', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'stuck' })
      await layer.send('other', { type: 'elsewhere' })
      const task = await claimOne(layer, 'jobs', 1000)
      await claimOne(layer, 'other', 1000)
      clock.advance(999)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      clock.advance(1)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      expect(await layer.tasks.claim('jobs', 1, 1000)).toEqual([])
      expect(await layer.tasks.recoverStalled('jobs')).toBe(1)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      expect(await layer.tasks.getTaskState(task.taskId)).toMatchObject({ attempts: 1 })
      expect(await claimOne(layer, 'jobs')).toMatchObject({ taskId: task.taskId, attempt: 2 })
      // The other channel's claim is its own channel's business.
      expect(await layer.tasks.recoverStalled('other')).toBe(0)
      expect(await layer.tasks.recoverStalled('other')).toBe(1)
    })

    it('recovers only once the two checks are graceMs apart', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'stuck' })
      await claimOne(layer, 'jobs', 1000)
      clock.advance(1000)
      expect(await layer.tasks.recoverStalled('jobs', 500)).toBe(0)
      clock.advance(499)
      expect(await layer.tasks.recoverStalled('jobs', 500)).toBe(0)
      clock.advance(1)
      expect(await layer.tasks.recoverStalled('jobs', 500)).toBe(1)
    })

    it('extend pushes the deadline and clears the stalled flag', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'long' })
      const task = await claimOne(layer, 'jobs', 1000)
      clock.advance(1000)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      await layer.tasks.extend([task], 1000)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      clock.advance(999)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      clock.advance(1)
      // The flag set before the extend is gone: this check only flags again.
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(1)
      // Extending a lost claim is harmless, and does not bring it back.
      await layer.tasks.extend([task], 1000)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      expect(types(await layer.tasks.claim('jobs', 5, 1000))).toEqual(['long'])
    })

    it('a late retry, bury or release from a recovered claim never touches the next holder', async () => {
      const layer = await make()
      const old = await lostClaim(layer, clock, 'jobs', 'contested')
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
      const layer = await make()
      const t0 = clock.now()
      for (const type of ['a.task', 'b.task', 'c.task']) await layer.send('jobs', { type })
      const [a, b] = await layer.tasks.claim('jobs', 2, 30_000)
      clock.advance(5)
      await layer.tasks.release([b!, a!])
      expect(await layer.tasks.getTaskState(a!.taskId)).toEqual({
        taskId: a!.taskId,
        channel: 'jobs',
        status: 'queued',
        attempts: 0,
        firstAttemptAt: t0,
        updatedAt: t0 + 5,
      })
      const again = await layer.tasks.claim('jobs', 3, 30_000)
      expect(types(again)).toEqual(['c.task', 'b.task', 'a.task'])
      expect(again.map((task) => task.attempt)).toEqual([1, 1, 1])
      await layer.tasks.release([again[0]!])
      await layer.tasks.release([again[0]!])
      expect(types(await layer.tasks.claim('jobs', 3, 30_000))).toEqual(['c.task'])
    })

    it('requeued tasks never expire, whatever expiryMs', async () => {
      const layer = await make({ expiryMs: 1000 })
      await layer.tasks.declareTaskChannels(['jobs'])
      await layer.send('jobs', { type: 'released' })
      await layer.send('jobs', { type: 'stalled' })
      const [released, stalled] = await layer.tasks.claim('jobs', 2, 1000)
      await layer.tasks.release([released!])
      clock.advance(1000)
      await layer.tasks.recoverStalled('jobs')
      expect(await layer.tasks.recoverStalled('jobs')).toBe(1)
      clock.advance(60_000)
      expect(types(await layer.tasks.claim('jobs', 5, 1000))).toEqual(['released', 'stalled'])
      expect(stalled).toBeDefined()
      expect(layer.stats().expired).toBe(0)
    })

    it('a plain receive waiting on the channel gets a released task', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'x' })
      const task = await claimOne(layer, 'jobs')
      const waiting = layer.receive('jobs')
      await layer.tasks.release([task])
      expect(await waiting).toEqual(task.message)
    })
  })
}
