import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { InvalidOptionError, type InMemoryChannelLayer } from '../../../src/index.js'
import { DEFAULT_TASK_STORE_OPTIONS, type ClaimedTask } from '../../../src/tasks/task-store.js'
import { resolveTaskStoreOptions, TASK_STORE_OPTION_KEYS } from '../../../src/tasks/task-store-options.js'
import { fakeLogger, FAILURE, makeLayer, T0 } from './helpers.js'

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

describe('MemoryTaskStore dead letters', () => {
  it('bury records a dead letter and marks the task dead', async () => {
    const layer = makeLayer()
    await layer.send('jobs', { type: 'doomed', userId: 7 })
    const [first] = await layer.tasks.claim('jobs', 1, 30_000)
    await layer.tasks.retry(first!, 0, { error: 'first failure' })
    vi.advanceTimersByTime(250)
    const [second] = await layer.tasks.claim('jobs', 1, 30_000)
    await layer.tasks.bury(second!, FAILURE)
    const [letter] = await layer.tasks.listDeadLetters('jobs')
    expect(letter).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      channel: 'jobs',
      taskId: first!.taskId,
      message: { type: 'doomed', userId: 7 },
      error: 'boom',
      stack: FAILURE.stack,
      attempts: 2,
      firstAttemptAt: T0,
      diedAt: T0 + 250,
    })
    expect(await layer.tasks.getDeadLetter('jobs', letter!.id)).toEqual(letter)
    expect(await layer.tasks.getDeadLetter('jobs', 'missing')).toBeUndefined()
    expect(await layer.tasks.getDeadLetter('other', letter!.id)).toBeUndefined()
    expect(await layer.tasks.getTaskState(first!.taskId)).toMatchObject({
      status: 'dead',
      lastError: 'boom',
      attempts: 2,
    })
    expect(await layer.tasks.claim('jobs', 1, 30_000)).toEqual([])
  })

  it('omits the stack when the failure has none, and gives each death its own id', async () => {
    const layer = makeLayer()
    const [a, b] = await buryAll(layer, 'jobs', ['a.task', 'b.task'])
    const letters = await layer.tasks.listDeadLetters('jobs')
    expect(letters[0]).not.toHaveProperty('stack')
    expect(letters.map((letter) => letter.taskId)).toEqual([b!.taskId, a!.taskId])
    expect(new Set(letters.map((letter) => letter.id)).size).toBe(2)
  })

  it('lists newest first, 100 by default, up to limit', async () => {
    const layer = makeLayer()
    await buryAll(
      layer,
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
    await expect(layer.tasks.listDeadLetters('jobs', { limit: 0 })).rejects.toBeInstanceOf(InvalidOptionError)
  })

  it('keeps deadLetterCapacity per channel, dropping the oldest, counted and logged', async () => {
    const { logger, warn } = fakeLogger()
    const layer = makeLayer({ deadLetterCapacity: 2, logger })
    await buryAll(layer, 'jobs', ['a.task', 'b.task', 'c.task', 'd.task'])
    await buryAll(layer, 'other', ['e.task', 'f.task'])
    expect((await layer.tasks.listDeadLetters('jobs')).map((l) => l.message.type)).toEqual(['d.task', 'c.task'])
    expect(await layer.tasks.listDeadLetters('other')).toHaveLength(2)
    expect(layer.tasks.stats()).toEqual({ deadLettersDropped: 2 })
    // Logged at most once per interval, with the count since the last line.
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith({ channel: 'jobs', dropped: 1 }, 'dead letters over capacity: oldest dropped')
  })

  it('purges dead letters deadLetterRetentionMs after death', async () => {
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

  it('replays given ids as fresh tasks at the tail, removing their dead letters', async () => {
    const layer = makeLayer()
    const [a, b, c] = await buryAll(layer, 'jobs', ['a.task', 'b.task', 'c.task'])
    await layer.send('jobs', { type: 'queued' })
    const letters = await layer.tasks.listDeadLetters('jobs')
    const idOf = (task: ClaimedTask | undefined): string => letters.find((l) => l.taskId === task?.taskId)!.id
    vi.advanceTimersByTime(1000)
    expect(await layer.tasks.replayDeadLetters('jobs', [idOf(c), idOf(a), 'unknown'])).toBe(2)
    expect(await layer.tasks.getTaskState(a!.taskId)).toMatchObject({ status: 'queued', attempts: 0 })
    expect(await layer.tasks.getTaskState(a!.taskId)).not.toHaveProperty('lastError')
    expect((await layer.tasks.listDeadLetters('jobs')).map((l) => l.taskId)).toEqual([b!.taskId])
    const replayed = await layer.tasks.claim('jobs', 5, 30_000)
    // Oldest death first, behind what was already queued.
    expect(replayed.map((task) => task.message.type)).toEqual(['queued', 'a.task', 'c.task'])
    expect(replayed[1]).toMatchObject({ taskId: a!.taskId, attempt: 1, firstAttemptAt: T0 + 1003 })
    expect(await layer.tasks.replayDeadLetters('jobs', [idOf(a)])).toBe(0)
    expect(await layer.tasks.replayDeadLetters('jobs', [])).toBe(0)
  })

  it('replays every dead letter of the channel when ids are omitted', async () => {
    const layer = makeLayer()
    await buryAll(layer, 'jobs', ['a.task', 'b.task'])
    await buryAll(layer, 'other', ['c.task'])
    expect(await layer.tasks.replayDeadLetters('jobs')).toBe(2)
    expect(await layer.tasks.deadLetterChannels()).toEqual(['other'])
    expect((await layer.tasks.claim('jobs', 5, 30_000)).map((task) => task.message.type)).toEqual(['a.task', 'b.task'])
    expect(await layer.tasks.replayDeadLetters('nothing.here')).toBe(0)
  })

  it('purges dead letters at least olderThanMs old, or all', async () => {
    const layer = makeLayer()
    await buryAll(layer, 'jobs', ['a.task'])
    vi.setSystemTime(T0 + 5000)
    await buryAll(layer, 'jobs', ['b.task'])
    vi.setSystemTime(T0 + 10_000)
    expect(await layer.tasks.purgeDeadLetters('jobs', { olderThanMs: 10_001 })).toBe(0)
    expect(await layer.tasks.purgeDeadLetters('jobs', { olderThanMs: 10_000 })).toBe(1)
    expect((await layer.tasks.listDeadLetters('jobs')).map((l) => l.message.type)).toEqual(['b.task'])
    await expect(layer.tasks.purgeDeadLetters('jobs', { olderThanMs: -1 })).rejects.toBeInstanceOf(InvalidOptionError)
    expect(await layer.tasks.purgeDeadLetters('jobs')).toBe(1)
    expect(await layer.tasks.deadLetterChannels()).toEqual([])
    expect(await layer.tasks.purgeDeadLetters('jobs')).toBe(0)
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
