// ProgressReporter (what ctx.progress runs): one write at a time, reports made meanwhile coalesced to the latest,
// store failures logged once and never thrown, nothing written after close.
import { describe, expect, it } from 'vitest'

import type { Logger } from '../../src/logger.js'
import type { ClaimedTask, TaskQueue } from '../../src/tasks/task-store.js'
import { ProgressReporter } from '../../src/worker/progress-reporter.js'

const TASK = { taskId: 't-1', channel: 'jobs' } as ClaimedTask

/** A store whose writes wait until the test lets them finish. */
function slowStore(fail = false) {
  const written: unknown[] = []
  const waiting: (() => void)[] = []
  const store = {
    reportProgress: async (_task: ClaimedTask, data: unknown) => {
      written.push(data)
      await new Promise<void>((resolve) => waiting.push(resolve))
      if (fail) throw new Error('redis down')
    },
  } as unknown as TaskQueue
  const finishOne = async () => {
    waiting.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { store, written, finishOne }
}

function recordingLog() {
  const warnings: string[] = []
  const log = { warn: (_obj: unknown, message: string) => warnings.push(message) } as unknown as Logger
  return { warnings, log: () => log }
}

describe('ProgressReporter', () => {
  it('writes the first report at once, then only the latest of those made meanwhile', async () => {
    const { store, written, finishOne } = slowStore()
    const reporter = new ProgressReporter(store, TASK, recordingLog().log)
    const resolved: number[] = []
    for (let i = 1; i <= 5; i++) void reporter.report(i).then(() => resolved.push(i))
    expect(written).toEqual([1])
    await finishOne()
    expect(written).toEqual([1, 5])
    expect(resolved).toEqual([1])
    await finishOne()
    expect(resolved).toEqual([1, 2, 3, 4, 5])
  })

  it('throws at once for data that is not plain JSON, writing nothing', () => {
    const { store, written } = slowStore()
    const reporter = new ProgressReporter(store, TASK, recordingLog().log)
    expect(() => reporter.report(new Map())).toThrow(/plain|Map|serializ/i)
    expect(written).toEqual([])
  })

  it('logs a failed write once and resolves anyway; after close nothing is written', async () => {
    const { store, written, finishOne } = slowStore(true)
    const { warnings, log } = recordingLog()
    const reporter = new ProgressReporter(store, TASK, log)
    const first = reporter.report(1)
    await finishOne()
    await first
    const second = reporter.report(2)
    await finishOne()
    await second
    expect(warnings).toEqual(['could not report task progress'])
    await reporter.close()
    await reporter.report(3)
    expect(written).toEqual([1, 2])
  })
})
