import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { ACTIVE_MOVE_MS, DelayedMover, IDLE_MOVE_MS } from '../../../src/layers/redis/delayed-mover.js'

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})
afterEach(() => {
  vi.useRealTimers()
})

const NONE = Number.POSITIVE_INFINITY

/** A mover whose `move` reports `state.nextDueAt` and records when it ran. */
function moverWith(state: { nextDueAt: number; idleWorkers: boolean }) {
  const runs: number[] = []
  const mover = new DelayedMover({
    move: () => {
      runs.push(Date.now())
      return Promise.resolve(state.nextDueAt)
    },
    hasIdleWorkers: () => state.idleWorkers,
  })
  return { mover, runs }
}

describe('DelayedMover', () => {
  it('runs when the earliest waiting message comes due, not before, and every IDLE_MOVE_MS while none wait', async () => {
    const state = { nextDueAt: 3_000, idleWorkers: false }
    const { mover, runs } = moverWith(state)
    mover.start()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(runs).toEqual([ACTIVE_MOVE_MS]) // the first run learns the due time
    state.nextDueAt = NONE
    await vi.advanceTimersByTimeAsync(3_000 - ACTIVE_MOVE_MS - 1)
    expect(runs).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toEqual([ACTIVE_MOVE_MS, 3_000])
    await vi.advanceTimersByTimeAsync(2 * IDLE_MOVE_MS)
    expect(runs).toEqual([ACTIVE_MOVE_MS, 3_000, 3_000 + IDLE_MOVE_MS, 3_000 + 2 * IDLE_MOVE_MS])
    mover.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('waits at most IDLE_MOVE_MS for a message due later, and runs again at once while some are due already', async () => {
    const state = { nextDueAt: 60_000, idleWorkers: false }
    const { mover, runs } = moverWith(state)
    mover.start()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS + IDLE_MOVE_MS)
    expect(runs).toEqual([ACTIVE_MOVE_MS, ACTIVE_MOVE_MS + IDLE_MOVE_MS])
    // A run moves at most 50 channels: what it left due is moved by the next run, 1 ms later.
    state.nextDueAt = 0
    await vi.advanceTimersByTimeAsync(IDLE_MOVE_MS + 3)
    const dueAt = ACTIVE_MOVE_MS + 2 * IDLE_MOVE_MS
    expect(runs.slice(2)).toEqual([dueAt, dueAt + 1, dueAt + 2, dueAt + 3])
    state.nextDueAt = NONE
    await vi.advanceTimersByTimeAsync(IDLE_MOVE_MS)
    expect(runs.slice(6)).toEqual([dueAt + 4])
    mover.stop()
  })

  it('keeps the active pace while this process has idle task workers (a retry come due must wake them)', async () => {
    const { mover, runs } = moverWith({ nextDueAt: NONE, idleWorkers: true })
    mover.start()
    await vi.advanceTimersByTimeAsync(3 * ACTIVE_MOVE_MS)
    expect(runs).toEqual([ACTIVE_MOVE_MS, 2 * ACTIVE_MOVE_MS, 3 * ACTIVE_MOVE_MS])
    mover.stop()
  })

  it('runs when this layer’s own delayed message comes due, even one sent while a run is in flight', async () => {
    const { mover, runs } = moverWith({ nextDueAt: NONE, idleWorkers: false })
    mover.start()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(runs).toEqual([ACTIVE_MOVE_MS]) // idle from here
    mover.delayedSent(ACTIVE_MOVE_MS + 400)
    mover.delayedSent(ACTIVE_MOVE_MS + 900) // later: does not put the first one off
    await vi.advanceTimersByTimeAsync(400)
    expect(runs).toEqual([ACTIVE_MOVE_MS, ACTIVE_MOVE_MS + 400])

    // Sent while a run is in flight: that run's reply may predate the send, so the next run is timed by it.
    let release: (nextDueAt: number) => void = () => undefined
    const slowRuns: number[] = []
    const slow = new DelayedMover({
      move: () => {
        slowRuns.push(Date.now())
        return new Promise<number>((resolve) => (release = resolve))
      },
      hasIdleWorkers: () => false,
    })
    const startedAt = Date.now()
    slow.start()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(slowRuns).toEqual([startedAt + ACTIVE_MOVE_MS])
    slow.delayedSent(Date.now() + 700)
    release(NONE)
    await vi.advanceTimersByTimeAsync(700)
    expect(slowRuns).toEqual([startedAt + ACTIVE_MOVE_MS, startedAt + ACTIVE_MOVE_MS + 700])
    mover.stop()
    slow.stop()
  })

  it('tries again ACTIVE_MOVE_MS after a move that failed', async () => {
    const runs: number[] = []
    const mover = new DelayedMover({
      move: () => {
        runs.push(Date.now())
        return Promise.reject(new Error('Redis is away'))
      },
      hasIdleWorkers: () => false,
    })
    mover.start()
    await vi.advanceTimersByTimeAsync(3 * ACTIVE_MOVE_MS)
    expect(runs).toEqual([ACTIVE_MOVE_MS, 2 * ACTIVE_MOVE_MS, 3 * ACTIVE_MOVE_MS])
    mover.stop()
  })

  it('runs one move at a time and nothing after stop()', async () => {
    let inFlight = 0
    let most = 0
    const mover = new DelayedMover({
      move: async () => {
        inFlight++
        most = Math.max(most, inFlight)
        await new Promise((resolve) => setTimeout(resolve, 3 * ACTIVE_MOVE_MS))
        inFlight--
        return 0
      },
      hasIdleWorkers: () => false,
    })
    mover.start()
    await vi.advanceTimersByTimeAsync(20 * ACTIVE_MOVE_MS)
    expect(most).toBe(1)
    mover.stop()
    await vi.advanceTimersByTimeAsync(20 * ACTIVE_MOVE_MS)
    expect(inFlight).toBe(0)
  })
})
