import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { ACTIVE_MOVE_MS, DelayedMover, IDLE_MOVE_MS } from '../../../src/layers/redis/delayed-mover.js'

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})
afterEach(() => {
  vi.useRealTimers()
})

/** A mover whose `move` reports `state.waiting` and counts its runs. */
function moverWith(state: { waiting: boolean; idleWorkers: boolean }) {
  const runs = { count: 0 }
  const mover = new DelayedMover({
    move: () => {
      runs.count++
      return Promise.resolve(state.waiting)
    },
    hasIdleWorkers: () => state.idleWorkers,
  })
  return { mover, runs }
}

describe('DelayedMover', () => {
  it('runs at the active pace while delayed messages wait, and at the idle pace once none do', async () => {
    const state = { waiting: true, idleWorkers: false }
    const { mover, runs } = moverWith(state)
    mover.start()
    await vi.advanceTimersByTimeAsync(4 * ACTIVE_MOVE_MS)
    expect(runs.count).toBe(4)
    state.waiting = false
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS) // this run finds none waiting
    expect(runs.count).toBe(5)
    await vi.advanceTimersByTimeAsync(IDLE_MOVE_MS - 1)
    expect(runs.count).toBe(5)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs.count).toBe(6)
    mover.stop()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps the active pace while this process has idle task workers (a retry come due must wake them)', async () => {
    const { mover, runs } = moverWith({ waiting: false, idleWorkers: true })
    mover.start()
    await vi.advanceTimersByTimeAsync(3 * ACTIVE_MOVE_MS)
    expect(runs.count).toBe(3)
    mover.stop()
  })

  it('goes back to the active pace when this layer sends a delayed message, even mid-run', async () => {
    const state = { waiting: false, idleWorkers: false }
    const { mover, runs } = moverWith(state)
    mover.start()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(runs.count).toBe(1) // idle pace from here
    mover.delayedSent()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(runs.count).toBe(2)

    // Sent while a run is in flight: that run's reply may predate the send, so the next run is not put off.
    let release: (waiting: boolean) => void = () => undefined
    let slowRuns = 0
    const slow = new DelayedMover({
      move: () => {
        slowRuns++
        return new Promise<boolean>((resolve) => (release = resolve))
      },
      hasIdleWorkers: () => false,
    })
    slow.start()
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(slowRuns).toBe(1)
    slow.delayedSent()
    release(false)
    await vi.advanceTimersByTimeAsync(ACTIVE_MOVE_MS)
    expect(slowRuns).toBe(2)
    mover.stop()
    slow.stop()
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
        return true
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
