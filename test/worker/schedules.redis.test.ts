// Issue 17's done-when test for periodic tasks: a schedule every second, three worker processes (the real CLI,
// `switchyard worker --app fixtures/worker-app.ts jobs`) on one Redis for ten seconds: it fires ten times (plus or
// minus one), never twice for one tick, and keeps firing when one worker is killed.
import { afterEach, describe, expect, inject, it } from 'vitest'

import { JOBS } from './fixtures/recording-app.js'
import { Resources, runEvents, sleep, spawnWorkerProcesses, uniquePrefix } from './helpers.js'

const redisUrl = inject('redisUrl')
const resources = new Resources()
afterEach(() => resources.closeAll())

describe('a schedule every second on three worker processes', () => {
  it('fires once per tick for ten seconds, and keeps firing after one worker is killed', async () => {
    const prefix = uniquePrefix()
    const recordFile = resources.tempFile('events.log')
    const layer = resources.layer(redisUrl, prefix)
    const workers = await spawnWorkerProcesses(resources, 3, {
      redisUrl,
      prefix,
      recordFile,
      taskMs: 5,
      visibilityMs: 5_000,
      concurrency: 4,
      shutdownTimeoutMs: 1_000,
      honourSignal: true,
    })

    const { nextRunMs } = await layer.tasks.schedule('heartbeat', {
      channel: JOBS,
      message: { type: 'job.run' },
      everyMs: 1000,
    })
    const startedAt = nextRunMs - 1000
    // Halfway, between two ticks: one worker dies (it may be the one that would claim the next tick).
    await sleep(startedAt + 5_500 - Date.now())
    workers[0]?.child.kill('SIGKILL')
    const killedAt = Date.now()
    await sleep(startedAt + 10_400 - Date.now())
    expect(await layer.tasks.unschedule('heartbeat')).toBe(true)
    await sleep(300)

    const starts = runEvents(recordFile).filter((event) => event.kind === 'start')
    const ticks = starts.map((event) => Number(event.taskId.split(':')[2]))
    const output = workers.map((worker) => worker.output()).join('\n')
    // Each tick is one task (its id `schedule:heartbeat:<tick ms>`), started once: no tick was fired twice.
    expect(new Set(starts.map((event) => event.taskId)).size, output).toBe(starts.length)
    expect(starts.every((event) => event.taskId.startsWith('schedule:heartbeat:'))).toBe(true)
    expect(ticks.length).toBeGreaterThanOrEqual(9)
    expect(ticks.length).toBeLessThanOrEqual(11)
    // Ticks on the one-second grid of the schedule, every one of them after the first.
    const sorted = [...ticks].sort((a, b) => a - b)
    for (const tick of sorted) expect((tick - nextRunMs) % 1000).toBe(0)
    expect(sorted.at(-1)! - sorted[0]!).toBe((sorted.length - 1) * 1000)
    // The survivors kept firing after the kill.
    expect(ticks.filter((tick) => tick > killedAt).length).toBeGreaterThanOrEqual(4)
    const listed = await layer.tasks.listSchedules()
    expect(listed).toEqual([])
  }, 30_000)
})
