import { describe, expect, it } from 'vitest'

import { ManualClock } from './manual-clock.js'

describe('ManualClock, the time of the client tests', () => {
  it('runs timers only when time is moved past them, soonest first, and never a cleared one', () => {
    const clock = new ManualClock()
    const fired: string[] = []
    clock.setTimeout(() => fired.push(`b at ${clock.now()}`), 20)
    clock.setTimeout(() => fired.push(`a at ${clock.now()}`), 10)
    const cleared = clock.setTimeout(() => fired.push('cleared'), 15)
    clock.clearTimeout(cleared)
    expect(clock.pending).toEqual([10, 20])
    clock.advance(9)
    expect(fired).toEqual([])
    clock.advance(11)
    expect(fired).toEqual(['a at 10', 'b at 20'])
    expect(clock.now()).toBe(20)
    expect(clock.delays).toEqual([20, 10, 15])
  })

  it('runs a timer set by a timer within the same advance, and runNext jumps to the soonest', () => {
    const clock = new ManualClock()
    const fired: number[] = []
    clock.setTimeout(() => {
      fired.push(clock.now())
      clock.setTimeout(() => fired.push(clock.now()), 5)
    }, 5)
    clock.advance(10)
    expect(fired).toEqual([5, 10])
    clock.setTimeout(() => fired.push(clock.now()), 7)
    expect(clock.runNext()).toBe(7)
    expect(fired).toEqual([5, 10, 17])
    expect(() => clock.runNext()).toThrow(/no timer is pending/)
  })
})
