import { Writable } from 'node:stream'

import { pino } from 'pino'
import { describe, expect, it, vi } from 'vitest'

import { lazyChild } from '../../src/logger.js'

function capture(): { root: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    },
  })
  return { root: pino({ level: 'debug' }, stream), lines }
}

describe('lazyChild', () => {
  it('creates the pino child only on first use, even through a child of it', () => {
    const { root } = capture()
    const spy = vi.spyOn(root, 'child')
    const connection = lazyChild(root, { connId: 'c1' })
    const consumer = connection.child({ consumer: 'Chat' })
    expect(spy).not.toHaveBeenCalled()
    expect(consumer.bindings()).toEqual({ connId: 'c1', consumer: 'Chat' })
    // Once per level: pino children inherit the spied `child` from the root.
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it("logs with every ancestor's bindings and follows pino's level rules", async () => {
    const { root, lines } = capture()
    const consumer = lazyChild(lazyChild(root, { connId: 'c1' }), { consumer: 'Chat' })
    consumer.info({ group: 'lobby' }, 'joined')
    consumer.level = 'warn'
    consumer.info('dropped: below the level')
    consumer.child({ attempt: 2 }).warn('slow')
    await new Promise((resolve) => setImmediate(resolve))
    expect(
      lines.map(({ connId, consumer, group, attempt, msg }) => ({ connId, consumer, group, attempt, msg })),
    ).toEqual([
      { connId: 'c1', consumer: 'Chat', group: 'lobby', attempt: undefined, msg: 'joined' },
      { connId: 'c1', consumer: 'Chat', group: undefined, attempt: 2, msg: 'slow' },
    ])
    expect(consumer.isLevelEnabled('info')).toBe(false)
  })

  it('gives a child made after first use its own level', () => {
    const { root } = capture()
    const parent = lazyChild(root, { connId: 'c1' })
    parent.info('first use')
    const child = parent.child({ consumer: 'Chat' })
    child.level = 'error'
    expect(child.level).toBe('error')
    expect(parent.level).toBe('debug')
    expect(child.isLevelEnabled('warn')).toBe(false)
  })
})
