import { describe, expect } from 'vitest'

import { InvalidOptionError } from '../../../src/errors.js'
import type { ClaimedTask } from '../../../src/tasks/task-store.js'
import { claimOne, FAILURE, type TaskLayer, type TaskStoreTestContext } from './context.js'

/** Every task of `channel` that can be claimed now. */
async function claimAll(layer: TaskLayer, channel: string): Promise<ClaimedTask[]> {
  return layer.tasks.claim(channel, 100, 30_000)
}

const step = (channel: string, n: number) => ({ channel, message: { type: 'job.run', n } })

/** Chains and chords (issue 17): `chain`, `chord`, `getFlowState`, and a flow's id in `getTaskState` and `cancel`. */
export function flowCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('chains and chords', () => {
    it('a chain sends each step when the one before succeeded, under the id <flow>.<index>', async () => {
      const layer = await make()
      const id = await layer.tasks.chain([step('jobs', 1), step('other', 2), step('jobs', 3)], { id: 'order-7' })
      expect(id).toBe('order-7')
      const first = await claimOne(layer, 'jobs')
      expect(first.taskId).toBe('order-7.0')
      expect(first.message).toEqual({ type: 'job.run', n: 1, idempotencyKey: 'order-7.0' })
      expect(await claimAll(layer, 'other')).toEqual([])
      expect(await layer.tasks.getFlowState(id)).toMatchObject({
        kind: 'chain',
        status: 'running',
        steps: [{ taskId: 'order-7.0', status: 'running' }, { taskId: 'order-7.1' }, { taskId: 'order-7.2' }],
      })
      await layer.tasks.ack(first)
      const second = await claimOne(layer, 'other')
      expect(second.taskId).toBe('order-7.1')
      // A failed attempt is retried as any task's; the chain waits for its success.
      await layer.tasks.retry(second, 0, FAILURE)
      expect(await claimAll(layer, 'jobs')).toEqual([])
      await layer.tasks.ack(await claimOne(layer, 'other'))
      const third = await claimOne(layer, 'jobs')
      expect(third.taskId).toBe('order-7.2')
      await layer.tasks.ack(third)
      expect(await layer.tasks.getFlowState(id)).toMatchObject({ status: 'succeeded' })
      expect(await layer.tasks.getTaskState(id)).toMatchObject({
        taskId: id,
        status: 'succeeded',
        attempts: 4,
        flow: { flowId: id, kind: 'chain', status: 'succeeded' },
      })
      expect(await claimAll(layer, 'jobs')).toEqual([])
    })

    it('a chain stops at a dead step: the steps after it are never sent', async () => {
      const layer = await make()
      const id = await layer.tasks.chain([step('jobs', 1), step('jobs', 2)])
      await layer.tasks.bury(await claimOne(layer, 'jobs'), FAILURE)
      expect(await claimAll(layer, 'jobs')).toEqual([])
      const state = await layer.tasks.getFlowState(id)
      expect(state?.status).toBe('dead')
      expect(state?.steps.map((s) => s.status)).toEqual(['dead', undefined])
    })

    it('a chord whose steps fail once each sends `then` exactly once, after all succeeded', async () => {
      const layer = await make()
      const id = await layer.tasks.chord([step('a', 1), step('b', 2), step('a', 3)], step('done', 0))
      const firstRound = [...(await claimAll(layer, 'a')), ...(await claimAll(layer, 'b'))]
      expect(firstRound.map((task) => task.taskId).sort()).toEqual([`${id}.0`, `${id}.1`, `${id}.2`])
      for (const task of firstRound) await layer.tasks.retry(task, 0, FAILURE)
      const secondRound = [...(await claimAll(layer, 'a')), ...(await claimAll(layer, 'b'))]
      expect(secondRound).toHaveLength(3)
      for (const task of secondRound.slice(0, 2)) await layer.tasks.ack(task)
      expect(await claimAll(layer, 'done')).toEqual([])
      expect(await layer.tasks.getFlowState(id)).toMatchObject({ status: 'running', then: { taskId: `${id}.then` } })
      const last = secondRound[2]!
      await layer.tasks.ack(last)
      // An ack repeated (a worker retrying its call) and a redelivered copy acked again send nothing more.
      await layer.tasks.ack(last)
      await layer.tasks.ack(secondRound[0]!)
      const then = await claimAll(layer, 'done')
      expect(then.map((task) => task.taskId)).toEqual([`${id}.then`])
      expect(then[0]?.message).toEqual({ type: 'job.run', n: 0, idempotencyKey: `${id}.then` })
      expect((await layer.tasks.getTaskState(id))?.status).toBe('running')
      await layer.tasks.ack(then[0]!)
      expect(await claimAll(layer, 'done')).toEqual([])
      const state = await layer.tasks.getFlowState(id)
      expect(state).toMatchObject({ kind: 'chord', status: 'succeeded', then: { status: 'succeeded' } })
      expect(state?.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    })

    it('a chord step redelivered after its worker was lost still sends `then` once', async () => {
      const layer = await make()
      const id = await layer.tasks.chord([step('a', 1), step('a', 2)], step('done', 0))
      const [lost, kept] = await layer.tasks.claim('a', 2, 1000)
      clock.advance(1000)
      await layer.tasks.recoverStalled('a')
      clock.advance(1000)
      expect(await layer.tasks.recoverStalled('a')).toBe(2)
      await layer.tasks.ack(kept!)
      // The lost worker finishes after all and acks its claim; the redelivered copy is acked too.
      await layer.tasks.ack(lost!)
      const again = await claimAll(layer, 'a')
      for (const task of again) await layer.tasks.ack(task)
      expect((await claimAll(layer, 'done')).map((task) => task.taskId)).toEqual([`${id}.then`])
      expect(await claimAll(layer, 'done')).toEqual([])
    })

    it('a chord with a dead step never sends `then`', async () => {
      const layer = await make()
      const id = await layer.tasks.chord([step('a', 1), step('a', 2)], step('done', 0))
      const [one, two] = await claimAll(layer, 'a')
      await layer.tasks.bury(one!, FAILURE)
      await layer.tasks.ack(two!)
      expect(await claimAll(layer, 'done')).toEqual([])
      expect(await layer.tasks.getFlowState(id)).toMatchObject({ status: 'dead', then: { taskId: `${id}.then` } })
    })

    it('cancel(flowId) cancels its queued steps and those not yet sent; a step cancelled alone ends the flow', async () => {
      const layer = await make()
      const id = await layer.tasks.chain([step('jobs', 1), step('jobs', 2)])
      expect(await layer.tasks.cancel(id)).toBe('queued')
      expect(await claimAll(layer, 'jobs')).toEqual([])
      const state = await layer.tasks.getFlowState(id)
      expect(state?.status).toBe('cancelled')
      expect(state?.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled'])
      expect(await layer.tasks.cancel(id)).toBe('cancelled')

      const chord = await layer.tasks.chord([step('a', 1), step('a', 2)], step('done', 0))
      expect(await layer.tasks.cancel(`${chord}.1`)).toBe('queued')
      await layer.tasks.ack(await claimOne(layer, 'a'))
      expect(await claimAll(layer, 'a')).toEqual([])
      expect(await claimAll(layer, 'done')).toEqual([])
      expect((await layer.tasks.getFlowState(chord))?.status).toBe('cancelled')
    })

    it('a second call with the same id starts nothing new', async () => {
      const layer = await make()
      await layer.tasks.chord([step('a', 1)], step('done', 0), { id: 'once' })
      expect(await layer.tasks.chord([step('a', 1)], step('done', 0), { id: 'once' })).toBe('once')
      expect(await layer.tasks.chain([step('a', 9)], { id: 'once' })).toBe('once')
      expect((await claimAll(layer, 'a')).map((task) => task.taskId)).toEqual(['once.0'])
    })

    it('a next step refused by a full channel is sent by resumeFlows once there is room', async () => {
      const layer = await make({ channelCapacity: { narrow: 1 } })
      const id = await layer.tasks.chain([step('jobs', 1), step('narrow', 2)])
      await layer.tasks.declareTaskChannels(['narrow'])
      await layer.send('narrow', { type: 'job.block' })
      await layer.tasks.ack(await claimOne(layer, 'jobs'))
      expect(await layer.tasks.getFlowState(id)).toMatchObject({
        status: 'running',
        steps: [{}, { taskId: `${id}.1` }],
      })
      clock.advance(5000)
      // Still full: the step end waits for the next sweep.
      expect(await layer.tasks.resumeFlows?.()).toBe(0)
      await layer.tasks.ack(await claimOne(layer, 'narrow'))
      clock.advance(5000)
      expect(await layer.tasks.resumeFlows?.()).toBe(1)
      expect((await claimOne(layer, 'narrow')).taskId).toBe(`${id}.1`)
    })

    it('refuses bad flows with InvalidOptionError, before sending anything', async () => {
      const layer = await make()
      const bad: unknown[][] = [
        [[]],
        [[{ channel: 'jobs', message: { type: 'a.b', idempotencyKey: 'mine' } }]],
        [[{ channel: 'jobs', message: { type: 'a.b', blob: Buffer.from('x') } }]],
        [[step('jobs', 1)], { id: 'has.dot' }],
      ]
      for (const args of bad) {
        await expect(layer.tasks.chain(...(args as Parameters<typeof layer.tasks.chain>))).rejects.toThrow(
          InvalidOptionError,
        )
      }
      await expect(
        layer.tasks.chord([step('jobs', 1)], undefined as unknown as Parameters<typeof layer.tasks.chord>[1]),
      ).rejects.toThrow(InvalidOptionError)
      expect(await claimAll(layer, 'jobs')).toEqual([])
      expect(await layer.tasks.getFlowState('nothing-here')).toBeUndefined()
    })
  })
}
