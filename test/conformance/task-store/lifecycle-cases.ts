import { describe, expect, vi } from 'vitest'

import { InvalidChannelNameError, InvalidOptionError, LayerClosedError } from '../../../src/index.js'
import { DEFAULT_TASK_STORE_OPTIONS } from '../../../src/tasks/task-store.js'
import { claimOne, FAILURE, sleep, types, type TaskLayer, type TaskStoreTestContext } from './context.js'
import { serverReport, workerReport } from './registry-cases.js'

/** Waits out the wake-ups earlier sends left (a wake-up with nobody waiting ends the next wait at once). */
async function drainWakeups(layer: TaskLayer, channel: string): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const started = performance.now()
    await layer.tasks.waitForTasks(channel, { timeoutMs: 100 })
    if (performance.now() - started >= 90) return
  }
  throw new Error(`${channel} kept waking its waiters with nothing sent`)
}

/** Options, argument checks (each before anything changes), waking idle workers, a flushed and a closed layer. */
export function lifecycleCases({ make, clock, it }: TaskStoreTestContext): void {
  describe('options and arguments', () => {
    it('exposes its resolved options, frozen', async () => {
      const layer = await make({ deadLetterCapacity: 7, taskChannels: ['jobs.*'], taskExpiryMs: 9 })
      expect(layer.tasks.options).toEqual({
        ...DEFAULT_TASK_STORE_OPTIONS,
        deadLetterCapacity: 7,
        taskChannels: [/^jobs\..*$/s],
        taskExpiryMs: 9,
      })
      expect(Object.isFrozen(layer.tasks.options)).toBe(true)
    })

    it('claim rejects a bad max or visibilityMs, naming it', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'x' })
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
      expect(await layer.tasks.claim('jobs', 5, 1000)).toHaveLength(1)
    })

    it('rejects an invalid channel name', async () => {
      const layer = await make()
      for (const call of [
        () => layer.tasks.claim('not valid', 1, 1000),
        () => layer.tasks.declareTaskChannels(['ok', 'not valid']),
        () => layer.tasks.recoverStalled('not valid'),
        () => layer.tasks.listDeadLetters('not valid'),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(InvalidChannelNameError)
      }
    })

    it('retry and settle reject a bad delayMs before changing anything', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'x', idempotencyKey: 'x' })
      const task = await claimOne(layer, 'jobs')
      await expect(layer.tasks.retry(task, -1, FAILURE)).rejects.toThrow(/delayMs/)
      const settlements = [
        { action: 'ack', task },
        { action: 'retry', task, delayMs: 1.5, failure: FAILURE },
      ] as const
      await expect(layer.tasks.settle('jobs', settlements, 0, 0)).rejects.toThrow(/delayMs/)
      expect(await layer.tasks.getTaskState('x')).toMatchObject({ status: 'running' })
      await layer.tasks.retry(task, 0, FAILURE)
      expect(await layer.tasks.getTaskState('x')).toMatchObject({ status: 'retrying' })
    })

    it('extend rejects a bad visibilityMs', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'x' })
      const task = await claimOne(layer, 'jobs')
      await expect(layer.tasks.extend([task], 0)).rejects.toBeInstanceOf(InvalidOptionError)
    })

    it('listDeadLetters rejects a bad limit', async () => {
      const layer = await make()
      await expect(layer.tasks.listDeadLetters('jobs', { limit: 0 })).rejects.toBeInstanceOf(InvalidOptionError)
    })

    it('purgeDeadLetters rejects a negative olderThanMs', async () => {
      const layer = await make()
      await layer.send('jobs', { type: 'x' })
      await layer.tasks.bury(await claimOne(layer, 'jobs'), FAILURE)
      const purge = layer.tasks.purgeDeadLetters('jobs', { olderThanMs: -1 })
      await expect(purge).rejects.toBeInstanceOf(InvalidOptionError)
      expect(await layer.tasks.listDeadLetters('jobs')).toHaveLength(1)
    })

    it('replayDeadLetters rejects ids that are not an array', async () => {
      const layer = await make()
      await expect(layer.tasks.replayDeadLetters('jobs', 'x' as never)).rejects.toBeInstanceOf(InvalidOptionError)
    })
  })

  describe('waitForTasks', () => {
    it('resolves when a send queues a task on the channel', async () => {
      const layer = await make()
      await layer.tasks.declareTaskChannels(['jobs'])
      const started = performance.now()
      const waiting = layer.tasks.waitForTasks('jobs', { timeoutMs: 10_000 })
      await sleep(50)
      await layer.send('jobs', { type: 'wake.up' })
      await waiting
      expect(performance.now() - started).toBeLessThan(5_000)
    })

    it('resolves when a replay puts a dead task back on the channel', async () => {
      const layer = await make()
      await layer.tasks.declareTaskChannels(['jobs'])
      await layer.send('jobs', { type: 'doomed' })
      await layer.tasks.bury(await claimOne(layer, 'jobs'), FAILURE)
      await drainWakeups(layer, 'jobs')
      const started = performance.now()
      const waiting = layer.tasks.waitForTasks('jobs', { timeoutMs: 10_000 })
      await sleep(50)
      expect(await layer.tasks.replayDeadLetters('jobs')).toBe(1)
      await waiting
      expect(performance.now() - started).toBeLessThan(5_000)
    })

    it('resolves after timeoutMs with nothing sent, or at once when aborted', async () => {
      const layer = await make()
      await layer.tasks.declareTaskChannels(['jobs'])
      let started = performance.now()
      await layer.tasks.waitForTasks('jobs', { timeoutMs: 100 })
      expect(performance.now() - started).toBeGreaterThanOrEqual(90)
      const controller = new AbortController()
      started = performance.now()
      const waiting = layer.tasks.waitForTasks('jobs', { timeoutMs: 10_000, signal: controller.signal })
      controller.abort()
      await waiting
      expect(performance.now() - started).toBeLessThan(5_000)
    })
  })

  describe('a flushed layer', () => {
    it('forgets claims, task states, waiting retries, dead letters, reports, schedules and flows, and stays usable', async () => {
      const layer = await make()
      for (const type of ['a.task', 'b.task', 'c.task']) await layer.send('jobs', { type })
      const [a, b, c] = await layer.tasks.claim('jobs', 3, 1000)
      await layer.tasks.retry(a!, 5000, FAILURE)
      await layer.tasks.bury(b!, FAILURE)
      await layer.tasks.reportWorker(workerReport())
      await layer.tasks.schedule('tick', { channel: 'jobs', message: { type: 'job.run' }, everyMs: 1000 })
      const flow = await layer.tasks.chain([{ channel: 'jobs', message: { type: 'job.run' } }])
      await layer.flush()
      clock.advance(10_000)
      expect(await layer.tasks.claim('jobs', 5, 1000)).toEqual([])
      expect(await layer.tasks.getTaskState(a!.taskId)).toBeUndefined()
      expect(await layer.tasks.deadLetterChannels()).toEqual([])
      expect(await layer.tasks.listWorkers()).toEqual([])
      expect(await layer.tasks.listSchedules()).toEqual([])
      expect(await layer.tasks.getFlowState(flow)).toBeUndefined()
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      expect(await layer.tasks.recoverStalled('jobs')).toBe(0)
      // The claim went with the flush: settling it is a no-op.
      await layer.tasks.retry(c!, 0, FAILURE)
      expect(await layer.tasks.claim('jobs', 5, 1000)).toEqual([])
      await layer.send('jobs', { type: 'after.flush' })
      expect(types(await layer.tasks.claim('jobs', 5, 1000))).toEqual(['after.flush'])
    })
  })

  describe('a closed layer', () => {
    it('rejects every task store call with LayerClosedError', async () => {
      // Real time: a store that retries a closed connection until a deadline must see that deadline pass.
      vi.useRealTimers()
      const layer = await make()
      await layer.send('jobs', { type: 'x' })
      const task = await claimOne(layer, 'jobs')
      await layer.close()
      const store = layer.tasks
      const calls: readonly (() => Promise<unknown>)[] = [
        () => store.declareTaskChannels(['jobs']),
        () => store.waitForTasks('jobs', { timeoutMs: 10 }),
        () => store.claim('jobs', 1, 1000),
        () => store.settle('jobs', [{ action: 'ack', task }], 0, 0),
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
        () => store.reportWorker(workerReport()),
        () => store.listWorkers(),
        () => store.forgetWorker(workerReport().id),
        () => store.reportServer(serverReport()),
        () => store.listServers(),
        () => store.forgetServer(serverReport().id),
        () => store.schedule('tick', { channel: 'jobs', message: { type: 'job.run' }, everyMs: 1000 }),
        () => store.unschedule('tick'),
        () => store.listSchedules(),
        () => store.claimDueSchedules(),
        () => store.nextScheduleRunMs(),
        () => store.chain([{ channel: 'jobs', message: { type: 'job.run' } }]),
        () =>
          store.chord([{ channel: 'jobs', message: { type: 'job.run' } }], {
            channel: 'jobs',
            message: { type: 'x.y' },
          }),
        () => store.getFlowState('flow'),
        () => store.resumeFlows?.() ?? Promise.reject(new LayerClosedError('resume flows')),
      ]
      for (const call of calls) await expect(call()).rejects.toBeInstanceOf(LayerClosedError)
    })

    it('ends a pending waitForTasks at once', async () => {
      const layer = await make()
      await layer.tasks.declareTaskChannels(['jobs'])
      await drainWakeups(layer, 'jobs')
      const started = performance.now()
      const waiting = layer.tasks.waitForTasks('jobs', { timeoutMs: 10_000 })
      await sleep(50)
      await layer.close()
      await waiting
      expect(performance.now() - started).toBeLessThan(5_000)
    })
  })
}
