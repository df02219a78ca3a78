import { describe, expect } from 'vitest'

import type { ClaimedTask } from '../../../src/tasks/task-store.js'
import { claimOne, FAILURE, types, type TaskLayer, type TaskStoreTestContext, type TestClock } from './context.js'

/** Sends, claims and buries one task per type, a millisecond apart; returns the claims. */
async function buryAll(
  layer: TaskLayer,
  clock: TestClock,
  channel: string,
  names: readonly string[],
): Promise<ClaimedTask[]> {
  const buried: ClaimedTask[] = []
  for (const type of names) {
    await layer.send(channel, { type })
    const task = await claimOne(layer, channel)
    await layer.tasks.bury(task, { error: `${type} failed` })
    buried.push(task)
    clock.advance(1)
  }
  return buried
}

/** DeadLetterStore: bury, list, read, replay, purge. */
export function deadLetterCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('dead letters', () => {
    it('bury records a dead letter and marks the task dead', async () => {
      const layer = await make()
      const t0 = clock.now()
      await layer.send('jobs', { type: 'doomed', userId: 7 })
      const first = await claimOne(layer, 'jobs')
      await layer.tasks.retry(first, 0, { error: 'first failure' })
      clock.advance(250)
      await layer.tasks.bury(await claimOne(layer, 'jobs'), FAILURE)
      const [letter] = await layer.tasks.listDeadLetters('jobs')
      expect(letter).toEqual({
        id: expect.any(String) as unknown,
        channel: 'jobs',
        taskId: first.taskId,
        message: { type: 'doomed', userId: 7 },
        error: 'boom',
        stack: FAILURE.stack,
        attempts: 2,
        firstAttemptAt: t0,
        diedAt: t0 + 250,
      })
      expect(await layer.tasks.getDeadLetter('jobs', letter!.id)).toEqual(letter)
      expect(await layer.tasks.getDeadLetter('jobs', 'missing')).toBeUndefined()
      expect(await layer.tasks.getDeadLetter('other', letter!.id)).toBeUndefined()
      expect(await layer.tasks.getTaskState(first.taskId)).toMatchObject({
        status: 'dead',
        lastError: 'boom',
        attempts: 2,
      })
      expect(await layer.tasks.claim('jobs', 1, 30_000)).toEqual([])
      expect(await layer.tasks.deadLetterChannels()).toEqual(['jobs'])
    })

    it('omits the stack when the failure has none, and gives each death its own id', async () => {
      const layer = await make()
      const [a, b] = await buryAll(layer, clock, 'jobs', ['a.task', 'b.task'])
      const letters = await layer.tasks.listDeadLetters('jobs')
      expect(letters[0]).not.toHaveProperty('stack')
      expect(letters.map((letter) => letter.taskId)).toEqual([b!.taskId, a!.taskId])
      expect(new Set(letters.map((letter) => letter.id)).size).toBe(2)
    })

    it('lists newest first, 100 by default, up to limit', async () => {
      const layer = await make()
      await buryAll(
        layer,
        clock,
        'jobs',
        Array.from({ length: 105 }, (_, i) => `t.${i}`),
      )
      const listed = await layer.tasks.listDeadLetters('jobs')
      expect(listed).toHaveLength(100)
      expect(listed[0]?.message.type).toBe('t.104')
      expect((await layer.tasks.listDeadLetters('jobs', { limit: 2 })).map((l) => l.message.type)).toEqual([
        't.104',
        't.103',
      ])
      expect(await layer.tasks.listDeadLetters('empty')).toEqual([])
    })

    it('keeps deadLetterCapacity per channel, dropping the oldest', async () => {
      const layer = await make({ deadLetterCapacity: 2 })
      await buryAll(layer, clock, 'jobs', ['a.task', 'b.task', 'c.task', 'd.task'])
      await buryAll(layer, clock, 'other', ['e.task', 'f.task'])
      expect((await layer.tasks.listDeadLetters('jobs')).map((l) => l.message.type)).toEqual(['d.task', 'c.task'])
      expect(await layer.tasks.listDeadLetters('other')).toHaveLength(2)
    })

    it('replays given ids as fresh tasks at the tail, removing their dead letters', async () => {
      const layer = await make()
      const [a, b, c] = await buryAll(layer, clock, 'jobs', ['a.task', 'b.task', 'c.task'])
      await layer.send('jobs', { type: 'queued' })
      const letters = await layer.tasks.listDeadLetters('jobs')
      const idOf = (task: ClaimedTask | undefined): string => letters.find((l) => l.taskId === task?.taskId)!.id
      clock.advance(1000)
      expect(await layer.tasks.replayDeadLetters('jobs', [idOf(c), idOf(a), 'unknown'])).toBe(2)
      expect(await layer.tasks.getTaskState(a!.taskId)).toMatchObject({ status: 'queued', attempts: 0 })
      expect(await layer.tasks.getTaskState(a!.taskId)).not.toHaveProperty('lastError')
      expect((await layer.tasks.listDeadLetters('jobs')).map((l) => l.taskId)).toEqual([b!.taskId])
      const replayed = await layer.tasks.claim('jobs', 5, 30_000)
      // Behind what was already queued. Among themselves the contract sets no order: memory replays in death order,
      // Redis in the order of `ids`.
      expect(types(replayed.slice(0, 1))).toEqual(['queued'])
      expect(types(replayed.slice(1)).sort()).toEqual(['a.task', 'c.task'])
      expect(replayed.find((task) => task.taskId === a!.taskId)).toMatchObject({
        attempt: 1,
        firstAttemptAt: clock.now(),
      })
      expect(await layer.tasks.replayDeadLetters('jobs', [idOf(a)])).toBe(0)
      expect(await layer.tasks.replayDeadLetters('jobs', [])).toBe(0)
    })

    it('replays every dead letter of the channel when ids are omitted', async () => {
      const layer = await make()
      await buryAll(layer, clock, 'jobs', ['a.task', 'b.task'])
      await buryAll(layer, clock, 'other', ['c.task'])
      expect(await layer.tasks.replayDeadLetters('jobs')).toBe(2)
      expect(await layer.tasks.deadLetterChannels()).toEqual(['other'])
      expect(types(await layer.tasks.claim('jobs', 5, 30_000))).toEqual(['a.task', 'b.task'])
      expect(await layer.tasks.replayDeadLetters('nothing.here')).toBe(0)
    })

    it('purges dead letters at least olderThanMs old, or all; a dry run only counts them', async () => {
      const layer = await make()
      const t0 = clock.now()
      await buryAll(layer, clock, 'jobs', ['a.task'])
      clock.advance(t0 + 5000 - clock.now())
      await buryAll(layer, clock, 'jobs', ['b.task'])
      clock.advance(t0 + 10_000 - clock.now())
      expect(await layer.tasks.purgeDeadLetters('jobs', { olderThanMs: 10_001 })).toBe(0)
      expect(await layer.tasks.purgeDeadLetters('jobs', { olderThanMs: 10_000, dryRun: true })).toBe(1)
      expect(await layer.tasks.purgeDeadLetters('jobs', { dryRun: true })).toBe(2)
      expect(await layer.tasks.listDeadLetters('jobs')).toHaveLength(2)
      expect(await layer.tasks.purgeDeadLetters('jobs', { olderThanMs: 10_000 })).toBe(1)
      expect((await layer.tasks.listDeadLetters('jobs')).map((l) => l.message.type)).toEqual(['b.task'])
      expect(await layer.tasks.purgeDeadLetters('jobs')).toBe(1)
      expect(await layer.tasks.deadLetterChannels()).toEqual([])
      expect(await layer.tasks.purgeDeadLetters('jobs')).toBe(0)
    })
  })
}
