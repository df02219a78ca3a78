import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { InvalidOptionError, type InMemoryChannelLayer } from '../../../src/index.js'
import { DEFAULT_TASK_STORE_OPTIONS, type ClaimedTask } from '../../../src/tasks/task-store.js'
import { resolveTaskStoreOptions, TASK_STORE_OPTION_KEYS } from '../../../src/tasks/task-store-options.js'
import { fakeLogger, makeLayer, T0 } from './helpers.js'

/** Sends, claims and buries one task per type, a millisecond apart; returns the claims. */
async function buryAll(layer: InMemoryChannelLayer, channel: string, types: readonly string[]): Promise<ClaimedTask[]> {
  const buried: ClaimedTask[] = []
  for (const type of types) {
    await layer.send(channel, { type })
    const [task] = await layer.tasks.claim(channel, 1, 30_000)
    await layer.tasks.bury(task!, { error: `${type} failed` })
    buried.push(task!)
    vi.advanceTimersByTime(1)
  }
  return buried
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 })
})
afterEach(() => {
  vi.useRealTimers()
})

// What only the in-memory store does with dead letters: drops counted in stats() and logged, retention to the
// millisecond, replays in death order. What every task store does is in test/conformance/task-store/.
describe('MemoryTaskStore dead letters', () => {
  it('counts and logs the dead letters it drops over deadLetterCapacity', async () => {
    const { logger, warn } = fakeLogger()
    const layer = makeLayer({ deadLetterCapacity: 2, logger })
    await buryAll(layer, 'jobs', ['a.task', 'b.task', 'c.task', 'd.task'])
    await buryAll(layer, 'other', ['e.task', 'f.task'])
    expect(layer.tasks.stats()).toEqual({ deadLettersDropped: 2 })
    // Logged at most once per interval, with the count since the last line.
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith({ channel: 'jobs', dropped: 1 }, 'dead letters over capacity: oldest dropped')
  })

  it('purges dead letters deadLetterRetentionMs after death, to the millisecond', async () => {
    const layer = makeLayer({ deadLetterRetentionMs: 10_000 })
    await buryAll(layer, 'jobs', ['a.task'])
    await buryAll(layer, 'other', ['b.task'])
    vi.setSystemTime(T0 + 9_999)
    expect(await layer.tasks.deadLetterChannels()).toEqual(['jobs', 'other'])
    vi.setSystemTime(T0 + 10_000)
    expect(await layer.tasks.deadLetterChannels()).toEqual(['other'])
    expect(await layer.tasks.listDeadLetters('jobs')).toEqual([])
    vi.setSystemTime(T0 + 10_001)
    expect(await layer.tasks.deadLetterChannels()).toEqual([])
  })

  it('replays given ids in death order, whatever the order of ids', async () => {
    const layer = makeLayer()
    const [a, , c] = await buryAll(layer, 'jobs', ['a.task', 'b.task', 'c.task'])
    const letters = await layer.tasks.listDeadLetters('jobs')
    const idOf = (task: ClaimedTask | undefined): string => letters.find((l) => l.taskId === task?.taskId)!.id
    expect(await layer.tasks.replayDeadLetters('jobs', [idOf(c), idOf(a)])).toBe(2)
    expect((await layer.tasks.claim('jobs', 5, 30_000)).map((task) => task.message.type)).toEqual(['a.task', 'c.task'])
  })
})

describe('task store options', () => {
  it('defaults, validates and freezes them on the memory layer', () => {
    const layer = makeLayer()
    expect(layer.tasks.options).toEqual(DEFAULT_TASK_STORE_OPTIONS)
    expect(Object.isFrozen(layer.tasks.options)).toBe(true)
    const custom = makeLayer({
      taskStateRetentionMs: 1,
      deadLetterCapacity: 2,
      deadLetterRetentionMs: 3,
      taskChannels: ['emails', 'jobs.*', /^img-\d+$/g],
      taskExpiryMs: 4,
    })
    expect(custom.tasks.options).toEqual({
      taskStateRetentionMs: 1,
      deadLetterCapacity: 2,
      deadLetterRetentionMs: 3,
      taskChannels: [/^emails$/s, /^jobs\..*$/s, /^img-\d+$/],
      taskExpiryMs: 4,
    })
    expect(
      ['emails', 'jobs.a', 'img-7', 'jobsx', 'emails2'].filter((name) => custom.tasks.isTaskChannel(name)),
    ).toEqual(['emails', 'jobs.a', 'img-7'])
    expect(() => makeLayer({ taskChannels: 'emails' as never })).toThrow(/taskChannels/)
    expect(() => makeLayer({ taskChannels: [''] })).toThrow(/taskChannels\[0\]/)
    for (const key of TASK_STORE_OPTION_KEYS) {
      for (const bad of [0, -1, 1.5, '10']) {
        expect(() => makeLayer({ [key]: bad })).toThrow(InvalidOptionError)
        expect(() => makeLayer({ [key]: bad })).toThrow(key)
      }
    }
  })

  it('resolveTaskStoreOptions ignores the layer options it does not own', () => {
    expect(resolveTaskStoreOptions({ deadLetterCapacity: 5, capacity: 3 } as never)).toEqual({
      ...DEFAULT_TASK_STORE_OPTIONS,
      deadLetterCapacity: 5,
    })
    expect(resolveTaskStoreOptions(undefined)).toEqual(DEFAULT_TASK_STORE_OPTIONS)
    expect(TASK_STORE_OPTION_KEYS).toEqual([
      'taskStateRetentionMs',
      'deadLetterCapacity',
      'deadLetterRetentionMs',
      'taskChannels',
      'taskExpiryMs',
    ])
  })
})
