import { describe, expect, it } from 'vitest'

import { ChannelFullError, InvalidOptionError, type LayerSendOptions } from '../../src/index.js'
import { receiveWithin, rejectionOf, sleep, type LayerTestContext, type MakeLayer } from './context.js'

// Timing margins are generous: the Redis layer runs these too, on a loaded two-core machine.
const DELAY_MS = 150
const LATE_MARGIN_MS = 500

export function delayedSendCases(ctx: LayerTestContext, makeLayer: MakeLayer): void {
  describe('delayed send', () => {
    it('delivers no sooner than delayMs and within delayMs + 500 ms', async () => {
      const layer = await ctx.make()
      const started = performance.now()
      await layer.send('delayed-basic', { type: 'later' }, { delayMs: DELAY_MS })
      // Too early is judged by when the message arrived, not by a shorter wait that a starved timer may outlast.
      const message = await receiveWithin(layer, 'delayed-basic', DELAY_MS + LATE_MARGIN_MS)
      const elapsed = performance.now() - started
      expect(message).toEqual({ type: 'later' })
      // Date.now() has millisecond steps, so a due time can be reached up to 1 ms of real time early.
      expect(elapsed).toBeGreaterThanOrEqual(DELAY_MS - 1)
      expect(elapsed).toBeLessThan(DELAY_MS + LATE_MARGIN_MS)
    })

    it('sends at once with delayMs 0 or no delayMs', async () => {
      const layer = await ctx.make()
      await layer.send('delayed-zero', { type: 'zero' }, { delayMs: 0 })
      await layer.send('delayed-zero', { type: 'empty' }, {})
      expect(await receiveWithin(layer, 'delayed-zero', 100)).toEqual({ type: 'zero' })
      expect(await receiveWithin(layer, 'delayed-zero', 100)).toEqual({ type: 'empty' })
    })

    it('keeps send order among equal delays, and due order among different ones', async () => {
      const layer = await ctx.make()
      // Sent first, due last with room to spare: 3 * DELAY_MS after the items if their five sends took no time. At
      // 2 * DELAY_MS, five sends that took longer than DELAY_MS (the cluster, with other suites on both cores) made
      // the last item due after it, so it rightly came first, by due order.
      await layer.send('delayed-order', { type: 'slow' }, { delayMs: 4 * DELAY_MS })
      for (let i = 0; i < 5; i++) await layer.send('delayed-order', { type: 'seq.item', i }, { delayMs: DELAY_MS })
      const received: unknown[] = []
      for (let i = 0; i < 6; i++) {
        const message = await receiveWithin(layer, 'delayed-order', 4 * DELAY_MS + LATE_MARGIN_MS)
        received.push(message?.type === 'seq.item' ? message.i : message?.type)
      }
      expect(received).toEqual([0, 1, 2, 3, 4, 'slow'])
    })

    it('holds a waiting delayed message outside the channel capacity', async () => {
      const layer = await ctx.make({ capacity: 1 })
      await layer.send('delayed-capacity', { type: 'later' }, { delayMs: DELAY_MS })
      await layer.send('delayed-capacity', { type: 'now' })
      expect(await receiveWithin(layer, 'delayed-capacity', 100)).toEqual({ type: 'now' })
      expect(await receiveWithin(layer, 'delayed-capacity', DELAY_MS + LATE_MARGIN_MS)).toEqual({ type: 'later' })
    })

    it('counts a delayed send in sent when made, and delivers it when due to a channel that is full by then', async () => {
      const layer = await ctx.make({ capacity: 1 })
      const before = layer.stats()
      await layer.send('delayed-full', { type: 'later' }, { delayMs: DELAY_MS })
      expect(layer.stats().sent).toBe(before.sent + 1)
      // The queue is full when the delayed message comes due; it was accepted already, so it joins anyway.
      await layer.send('delayed-full', { type: 'now' })
      await sleep(DELAY_MS + LATE_MARGIN_MS)
      expect(await receiveWithin(layer, 'delayed-full', 100)).toEqual({ type: 'now' })
      expect(await receiveWithin(layer, 'delayed-full', 100)).toEqual({ type: 'later' })
      expect(layer.stats()).toMatchObject({ sent: before.sent + 2, dropped: before.dropped })
    })

    it('refuses a delayed send with ChannelFullError while capacity delayed messages wait on the channel', async () => {
      const layer = await ctx.make({ capacity: 2 })
      const before = layer.stats()
      await layer.send('delayed-cap', { type: 'a' }, { delayMs: 20 * DELAY_MS })
      await layer.send('delayed-cap', { type: 'b' }, { delayMs: 20 * DELAY_MS })
      const error = await rejectionOf(() => layer.send('delayed-cap', { type: 'c' }, { delayMs: DELAY_MS }))
      expect(error).toBeInstanceOf(ChannelFullError)
      expect(error.code).toBe('SWY_CHANNEL_FULL')
      expect(layer.stats()).toMatchObject({ sent: before.sent + 2, rejected: before.rejected + 1 })
      // The queue itself is empty: an immediate send still goes through.
      await layer.send('delayed-cap', { type: 'now' })
      expect(await receiveWithin(layer, 'delayed-cap', 500)).toEqual({ type: 'now' })
    })

    const bad: readonly unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100', null]
    for (const delayMs of bad) {
      it(`rejects delayMs ${String(delayMs)} with InvalidOptionError and queues nothing`, async () => {
        const layer = await ctx.make()
        const options = { delayMs } as unknown as LayerSendOptions
        const error = await rejectionOf(() => layer.send('delayed-bad', { type: 'never' }, options))
        expect(error).toBeInstanceOf(InvalidOptionError)
        expect(error.code).toBe('SWY_INVALID_OPTION')
        expect(error.message).toContain('delayMs')
        expect(await receiveWithin(layer, 'delayed-bad', 100)).toBeUndefined()
      })
    }

    it('drops a waiting delayed message on flush', async () => {
      const layer = await ctx.make()
      await layer.send('delayed-flushed', { type: 'gone' }, { delayMs: DELAY_MS })
      await layer.flush()
      expect(await receiveWithin(layer, 'delayed-flushed', DELAY_MS + LATE_MARGIN_MS)).toBeUndefined()
      await layer.send('delayed-flushed', { type: 'after.flush' })
      expect(await receiveWithin(layer, 'delayed-flushed', 1000)).toEqual({ type: 'after.flush' })
    })

    it('close drops waiting delayed messages: nothing is delivered or raised once they come due', async () => {
      const layer = await makeLayer()
      const raised: unknown[] = []
      const record = (error: unknown): void => {
        raised.push(error)
      }
      process.on('uncaughtException', record)
      process.on('unhandledRejection', record)
      try {
        await layer.send('delayed-closed', { type: 'never' }, { delayMs: 50 })
        const before = layer.stats()
        await layer.close()
        await sleep(50 + LATE_MARGIN_MS)
        // A timer left armed would have delivered (sent + 1) or dropped (dropped + 1) the message by now.
        expect(layer.stats()).toEqual(before)
        expect(raised).toEqual([])
      } finally {
        process.off('uncaughtException', record)
        process.off('unhandledRejection', record)
      }
    })
  })
}
