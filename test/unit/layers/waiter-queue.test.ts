import { describe, expect, it } from 'vitest'

import { WaiterQueue } from '../../../src/layers/waiter-queue.js'

describe('WaiterQueue', () => {
  it('hands waiters out oldest first, whichever one was taken off in between', () => {
    const waiters = new WaiterQueue<string>()
    for (const name of ['a', 'b', 'c', 'd']) waiters.add(name)
    expect(waiters.delete('c')).toBe(true)
    expect(waiters.size).toBe(3)
    expect([...waiters]).toEqual(['a', 'b', 'd'])
    expect(waiters.shift()).toBe('a')
    waiters.add('e')
    expect(waiters.delete('b')).toBe(true)
    expect(waiters.shift()).toBe('d')
    expect(waiters.shift()).toBe('e')
    expect(waiters.shift()).toBeUndefined()
    expect(waiters.size).toBe(0)
  })

  it('keeps the place of a waiter added twice, first or not', () => {
    const waiters = new WaiterQueue<string>()
    waiters.add('a')
    waiters.add('b')
    waiters.add('a')
    waiters.add('b')
    expect(waiters.size).toBe(2)
    expect([...waiters]).toEqual(['a', 'b'])
  })

  it('says false for a waiter that is not there, and changes nothing', () => {
    const waiters = new WaiterQueue<string>()
    expect(waiters.delete('a')).toBe(false)
    waiters.add('a')
    expect(waiters.delete('b')).toBe(false)
    expect([...waiters]).toEqual(['a'])
    expect(waiters.delete('a')).toBe(true)
    expect(waiters.delete('a')).toBe(false)
    expect([...waiters]).toEqual([])
  })

  it('takes the one waiter off and on again, as a run loop does after each message', () => {
    const waiters = new WaiterQueue<string>()
    for (let i = 0; i < 3; i++) {
      waiters.add('loop')
      expect(waiters.size).toBe(1)
      expect(waiters.shift()).toBe('loop')
      expect(waiters.size).toBe(0)
    }
  })
})
