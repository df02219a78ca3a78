import { describe, expect, it } from 'vitest'

import { LocalChannels } from '../../../src/layers/local-channels.js'

const NEVER = Number.POSITIVE_INFINITY

/** Capacity 5 for `small.*` channels, 10 for the rest; expired entries are collected. */
function channels(expired: string[] = []): LocalChannels {
  return new LocalChannels(
    (channel) => (channel.startsWith('small.') ? 5 : 10),
    (entry) => expired.push(entry.channel),
  )
}

describe('LocalChannels.headroom', () => {
  it('is the limit while no channel holds a message, however many are listened to', () => {
    const local = channels()
    for (let i = 0; i < 50; i++) void local.wait(`c!${String(i)}`, undefined)
    expect(local.headroom(5)).toBe(5)
  })

  it('is the least free space among channels holding messages, and comes back as they are taken', () => {
    const local = channels()
    local.deliver('a', { type: 'x.y' }, NEVER)
    local.deliver('small.b', { type: 'x.y' }, NEVER)
    local.deliver('small.b', { type: 'x.y' }, NEVER)
    // small.b: 5 - 2 = 3 free; a: 10 - 1 = 9 free.
    expect(local.headroom(5)).toBe(3)
    expect(local.take('small.b')).toEqual({ type: 'x.y' })
    expect(local.headroom(5)).toBe(4)
    expect(local.take('small.b')).toEqual({ type: 'x.y' })
    expect(local.headroom(5)).toBe(5)
    expect(local.take('a')).toEqual({ type: 'x.y' })
    expect(local.headroom(5)).toBe(5)
  })

  it('is 0 while a full channel is not stalled, and leaves it out once it is', () => {
    const local = channels()
    for (let i = 0; i < 5; i++) local.deliver('small.full', { type: 'x.y' }, NEVER)
    local.deliver('a', { type: 'x.y' }, NEVER)
    expect(local.headroom(5)).toBe(0)
    local.markFullStalled()
    expect(local.headroom(5)).toBe(5)
    // Its next take unmarks it: it counts again.
    local.take('small.full')
    expect(local.headroom(5)).toBe(1)
  })

  it('forgets channels emptied by expiry, clear and a close, and a reused state counts for its new channel', () => {
    const expired: string[] = []
    const local = channels(expired)
    local.deliver('small.old', { type: 'x.y' }, 1_000)
    expect(local.headroom(5)).toBe(4)
    local.purgeExpired(2_000)
    expect(expired).toEqual(['small.old'])
    expect(local.headroom(5)).toBe(5)
    // The forgotten state is reused for the next channel created.
    local.deliver('small.next', { type: 'x.y' }, NEVER)
    local.deliver('small.next', { type: 'x.y' }, NEVER)
    expect(local.headroom(5)).toBe(3)
    local.clear()
    expect(local.headroom(5)).toBe(5)
    local.deliver('small.again', { type: 'x.y' }, NEVER)
    expect(local.headroom(5)).toBe(4)
    local.rejectAll(new Error('closed'))
    expect(local.headroom(5)).toBe(5)
    expect(local.size).toBe(0)
  })

  it('counts requeued messages and task messages, which stay out of the expiry order', () => {
    const local = channels()
    local.requeue('small.tasks', { type: 'task.run' })
    local.offerUntracked('small.tasks', { type: 'task.run' }, NEVER)
    expect(local.headroom(5)).toBe(3)
    local.take('small.tasks')
    local.take('small.tasks')
    expect(local.headroom(5)).toBe(5)
  })
})
