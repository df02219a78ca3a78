import { afterEach, beforeEach, expect, it, vi } from 'vitest'

import type { ChannelLayer, LayerOptions } from '../../../src/index.js'
import type { ClaimedTask, TaskCapableLayer } from '../../../src/tasks/task-store.js'
import type { TaskStoreLayerOptions } from '../../../src/tasks/task-store-options.js'

/** A layer with a task store: what both built-in layers are. */
export type TaskLayer = ChannelLayer & TaskCapableLayer

export type TaskLayerOptions = LayerOptions & TaskStoreLayerOptions

/**
 * Builds a fresh, empty layer of the backend under test. Every call must use storage of its own (Redis: a key
 * prefix of its own), so a test sees only what it wrote and cleans only that.
 */
export type MakeTaskLayer = (options?: TaskLayerOptions) => TaskLayer | Promise<TaskLayer>

/**
 * Cases a backend is known to fail, by title, each with the bug it shows (where it is reported). They run as
 * `it.fails`: still run, still reported, and the suite turns red the day the bug is fixed, so the mark goes too.
 */
export type KnownBugs = Readonly<Record<string, string>>

/**
 * Time as both backends see it. Stores take their clock from `Date.now()` (Redis passes it to every script), so
 * the suite fakes `Date` alone and moves it by hand: timers, sockets and ioredis keep real time. What Redis times
 * itself (key TTLs: task state retention) needs real time to pass too: `elapse`.
 */
export interface TestClock {
  /** The fake now, Unix ms. */
  readonly now: () => number
  /** Moves `Date.now()` forward by `ms`, at once. */
  readonly advance: (ms: number) => void
  /** Moves `Date.now()` forward by `ms` and lets `ms` of real time pass (for what Redis times with TTLs). */
  readonly elapse: (ms: number) => Promise<void>
}

/** Declares one case: vitest's `it`, or `it.fails` when the backend under test is known to fail it. */
export type DeclareCase = (title: string, body: () => Promise<void>) => void

/** What every case file receives. Plain function properties, so cases may destructure them. */
export interface TaskStoreTestContext {
  /** A new layer, flushed and closed after the test. */
  readonly make: (options?: TaskLayerOptions) => Promise<TaskLayer>
  readonly clock: TestClock
  readonly it: DeclareCase
}

export interface SuiteContext extends TaskStoreTestContext {
  /** Titles of `knownBugs` that no declared case has (a typo, or a case renamed): the suite refuses them. */
  readonly unmatchedBugs: () => string[]
}

export function taskStoreTestContext(makeLayer: MakeTaskLayer, knownBugs: KnownBugs = {}): SuiteContext {
  const open: TaskLayer[] = []
  const declared = new Set<string>()
  beforeEach(() => {
    // Whole milliseconds near the real time: Redis key TTLs and channels_redis scores stay sensible.
    vi.useFakeTimers({ toFake: ['Date'], now: Math.floor(Date.now()) })
  })
  afterEach(async () => {
    vi.useRealTimers()
    for (const layer of open.splice(0)) {
      await layer.flush().catch(() => undefined)
      await layer.close()
    }
  })
  const clock: TestClock = {
    now: () => Date.now(),
    advance: (ms) => {
      vi.setSystemTime(Date.now() + ms)
    },
    elapse: async (ms) => {
      vi.setSystemTime(Date.now() + ms)
      await sleep(ms)
    },
  }
  return {
    clock,
    make: async (options) => {
      const layer = await makeLayer(options)
      open.push(layer)
      return layer
    },
    it: (title, body) => {
      declared.add(title)
      const bug = knownBugs[title]
      if (bug === undefined) it(title, body)
      else it.fails(`${title} [known bug: ${bug}]`, body)
    },
    unmatchedBugs: () => Object.keys(knownBugs).filter((title) => !declared.has(title)),
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export const FAILURE = Object.freeze({ error: 'boom', stack: 'Error: boom\n    at task (task.ts:1:1)' })

export const types = (tasks: readonly ClaimedTask[]): string[] => tasks.map((task) => task.message.type)

/** Claims one task of `channel`; throws when there is none. */
export async function claimOne(layer: TaskLayer, channel: string, visibilityMs = 30_000): Promise<ClaimedTask> {
  const [task] = await layer.tasks.claim(channel, 1, visibilityMs)
  if (task === undefined) throw new Error(`nothing to claim on ${channel}`)
  return task
}

/** Sends a task of `type` and claims it, then lets the store recover it as stalled: the claim returned is lost. */
export async function lostClaim(
  layer: TaskLayer,
  clock: TestClock,
  channel: string,
  type: string,
): Promise<ClaimedTask> {
  await layer.send(channel, { type })
  const task = await claimOne(layer, channel, 1000)
  clock.advance(1000)
  expect(await layer.tasks.recoverStalled(channel)).toBe(0)
  expect(await layer.tasks.recoverStalled(channel)).toBe(1)
  return task
}
