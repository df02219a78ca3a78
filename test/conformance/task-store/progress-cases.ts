import { describe, expect } from 'vitest'

import { MessageNotSerializableError, MessageTooLargeError } from '../../../src/errors.js'
import { MAX_PROGRESS_BYTES } from '../../../src/tasks/task-progress.js'
import { claimOne, type TaskStoreTestContext } from './context.js'

/** Issue 17: `reportProgress`, `progressGroup` and `sendTaskEvent`: progress kept in the state and sent to a group. */
export function progressCases({ make, it }: TaskStoreTestContext): void {
  describe('progress', () => {
    it('keeps the latest progress of a running task in its state and sends it to the progress group', async () => {
      const layer = await make()
      const store = layer.tasks
      const page = await layer.newChannel()
      await layer.groupAdd(store.progressGroup('p-1'), page)
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'p-1' })
      const task = await claimOne(layer, 'jobs')
      await store.reportProgress(task, { done: 1, total: 3 })
      await store.reportProgress(task, { done: 2, total: 3 })
      expect(await layer.receive(page)).toEqual({ type: 'task.progress', taskId: 'p-1', data: { done: 1, total: 3 } })
      expect(await layer.receive(page)).toEqual({ type: 'task.progress', taskId: 'p-1', data: { done: 2, total: 3 } })
      expect(await store.getTaskState('p-1')).toMatchObject({ status: 'running', progress: { done: 2, total: 3 } })

      // The end keeps the last progress; a late report neither changes it nor reaches the group.
      await store.ack(task)
      await store.sendTaskEvent({ type: 'task.succeeded', taskId: 'p-1' })
      await store.reportProgress(task, { done: 3, total: 3 })
      expect(await layer.receive(page)).toEqual({ type: 'task.succeeded', taskId: 'p-1' })
      expect(await store.getTaskState('p-1')).toMatchObject({ status: 'succeeded', progress: { done: 2, total: 3 } })
    })

    it('keeps progress through a retry and stores nothing for a task that is not running', async () => {
      const layer = await make()
      const store = layer.tasks
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'p-2' })
      const task = await claimOne(layer, 'jobs')
      await store.reportProgress(task, 0.5)
      await store.retry(task, 60_000, { error: 'Error: later' })
      expect(await store.getTaskState('p-2')).toMatchObject({ status: 'retrying', progress: 0.5 })
      await store.reportProgress(task, 0.9)
      expect(await store.getTaskState('p-2')).toMatchObject({ progress: 0.5 })
      // An unknown task gets no state at all.
      await store.reportProgress({ ...task, taskId: 'never-sent' }, 1)
      expect(await store.getTaskState('never-sent')).toBeUndefined()
    })

    it('refuses progress that is not plain JSON or is over MAX_PROGRESS_BYTES, storing nothing', async () => {
      const layer = await make()
      const store = layer.tasks
      await layer.send('jobs', { type: 'job.run', idempotencyKey: 'p-3' })
      const task = await claimOne(layer, 'jobs')
      await expect(store.reportProgress(task, new Date())).rejects.toThrow(MessageNotSerializableError)
      await expect(store.reportProgress(task, undefined)).rejects.toThrow(MessageNotSerializableError)
      await expect(store.reportProgress(task, { n: Number.NaN })).rejects.toThrow(MessageNotSerializableError)
      const big = 'x'.repeat(MAX_PROGRESS_BYTES)
      await expect(store.reportProgress(task, big)).rejects.toThrow(MessageTooLargeError)
      await expect(store.reportProgress(task, big)).rejects.toThrow(/Task progress data is .*MAX_PROGRESS_BYTES/)
      expect(await store.getTaskState('p-3')).not.toHaveProperty('progress')
    })

    it('names a valid group for any task id, one per id', async () => {
      const layer = await make()
      const ids = ['0123456789abcdef0123456789abcdef', 'invoice 2025/17', 'ü', 'a'.repeat(200), 'a'.repeat(201)]
      const groups = ids.map((id) => layer.tasks.progressGroup(id))
      expect(new Set(groups).size).toBe(ids.length)
      const page = await layer.newChannel()
      for (const group of groups) await layer.groupAdd(group, page)
      await layer.tasks.sendTaskEvent({ type: 'task.dead', taskId: 'invoice 2025/17', error: 'boom', code: 'E_X' })
      expect(await layer.receive(page)).toEqual({
        type: 'task.dead',
        taskId: 'invoice 2025/17',
        error: 'boom',
        code: 'E_X',
      })
    })

    it('sends a task event to a progress group someone joined, and makes no group send for one nobody did', async () => {
      const layer = await make()
      const store = layer.tasks
      const listener = await layer.newChannel()
      await layer.groupAdd(store.progressGroup('heard'), listener)
      const before = layer.stats().groupSends
      await store.sendTaskEvent({ type: 'task.succeeded', taskId: 'unheard' })
      expect(layer.stats().groupSends).toBe(before)
      await store.sendTaskEvent({ type: 'task.succeeded', taskId: 'heard' })
      expect(layer.stats().groupSends).toBe(before + 1)
      expect(await layer.receive(listener)).toEqual({ type: 'task.succeeded', taskId: 'heard' })

      // A member that left is no listener any more.
      await layer.groupDiscard(store.progressGroup('heard'), listener)
      await store.sendTaskEvent({ type: 'task.dead', taskId: 'heard', error: 'boom' })
      expect(layer.stats().groupSends).toBe(before + 1)
    })

    it('sends events sent together to each listened group in order, and to no other', async () => {
      const layer = await make()
      const store = layer.tasks
      const first = await layer.newChannel()
      const second = await layer.newChannel()
      await layer.groupAdd(store.progressGroup('e-1'), first)
      await layer.groupAdd(store.progressGroup('e-3'), second)
      await layer.groupAdd(store.progressGroup('invoice 2025/18'), second)
      const before = layer.stats().groupSends
      await Promise.all([
        store.sendTaskEvent({ type: 'task.retrying', taskId: 'e-1', attempt: 1, delayMs: 10, error: 'flaky' }),
        store.sendTaskEvent({ type: 'task.succeeded', taskId: 'e-2' }),
        store.sendTaskEvent({ type: 'task.dead', taskId: 'e-3', error: 'boom' }),
        store.sendTaskEvent({ type: 'task.succeeded', taskId: 'e-1' }),
        store.sendTaskEvent({ type: 'task.succeeded', taskId: 'invoice 2025/18' }),
        store.sendTaskEvent({ type: 'task.dead', taskId: 'e-4', error: 'boom' }),
      ])
      expect(layer.stats().groupSends).toBe(before + 4)
      expect(await layer.receive(first)).toMatchObject({ type: 'task.retrying', taskId: 'e-1' })
      expect(await layer.receive(first)).toEqual({ type: 'task.succeeded', taskId: 'e-1' })
      const heard = [await layer.receive(second), await layer.receive(second)]
      expect(heard).toEqual(
        expect.arrayContaining([
          { type: 'task.dead', taskId: 'e-3', error: 'boom' },
          { type: 'task.succeeded', taskId: 'invoice 2025/18' },
        ]),
      )
    })

    it('keeps a task event in a progress group with history even when nobody listens yet', async () => {
      const layer = await make({ history: { 'task.progress.*': { size: 10, ttlMs: 60_000 } } })
      const store = layer.tasks
      await store.sendTaskEvent({ type: 'task.succeeded', taskId: 'h-1' })
      const { messages } = await layer.groupHistory(store.progressGroup('h-1'))
      expect(messages).toEqual([expect.objectContaining({ type: 'task.succeeded', taskId: 'h-1' })])
    })
  })
}
