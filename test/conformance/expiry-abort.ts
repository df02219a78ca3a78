import { describe, expect, it } from 'vitest'

import type { Message } from '../../src/index.js'
import { receiveWithin, rejectionOf, sleep, type LayerTestContext } from './context.js'

export function expiryCases(ctx: LayerTestContext): void {
  describe('message expiry', () => {
    it('drops a message unread after expiryMs and counts it', async () => {
      const layer = await ctx.make({ expiryMs: 100 })
      await layer.send('test-channel-1', { type: 'will.expire' })
      await sleep(200)
      expect(await receiveWithin(layer, 'test-channel-1', 200)).toBeUndefined()
      expect(layer.stats().expired).toBe(1)
    })

    it('expires the earliest messages and keeps the later ones', async () => {
      // First is gone by Third's send whatever the sleeps overshoot; Second survives an overshoot of up to 200 ms.
      const layer = await ctx.make({ expiryMs: 600 })
      await layer.send('expiring', { type: 'First!' })
      await sleep(400)
      await layer.send('expiring', { type: 'Second!' })
      await sleep(400)
      await layer.send('expiring', { type: 'Third!' })
      expect((await layer.receive('expiring')).type).toBe('Second!')
      expect((await layer.receive('expiring')).type).toBe('Third!')
      expect(await receiveWithin(layer, 'expiring', 100)).toBeUndefined()
    })

    it('purges unread messages of other channels too', async () => {
      const layer = await ctx.make({ expiryMs: 100 })
      await layer.send('first-channel', { type: 'message.1' })
      await sleep(200)
      await layer.send('second-channel', { type: 'message.2' })
      expect((await layer.receive('second-channel')).type).toBe('message.2')
      expect(await receiveWithin(layer, 'first-channel', 100)).toBeUndefined()
      expect(layer.stats().expired).toBe(1)
    })

    it('applies expiry to group sends', async () => {
      const layer = await ctx.make({ expiryMs: 300 })
      await layer.groupAdd('test-group', 'member-a')
      await layer.groupSend('test-group', { type: 'First!' })
      await sleep(200)
      await layer.groupSend('test-group', { type: 'Second!' })
      await sleep(200)
      await layer.groupSend('test-group', { type: 'Third!' })
      // First! expired before Third! went out, which also removed member-a from the group (Channels' spec).
      expect(await receiveWithin(layer, 'member-a', 1000)).toEqual({ type: 'Second!' })
      expect(await receiveWithin(layer, 'member-a', 100)).toBeUndefined()
    })

    it('removes a channel whose message expired from every group', async () => {
      const layer = await ctx.make({ expiryMs: 150 })
      await layer.groupAdd('group-one', 'gone')
      await layer.groupAdd('group-two', 'gone')
      await layer.groupAdd('group-one', 'alive')
      await layer.send('gone', { type: 'never.read' })
      await sleep(250)
      await layer.groupSend('group-one', { type: 'after.one' })
      await layer.groupSend('group-two', { type: 'after.two' })
      expect(await receiveWithin(layer, 'alive', 1000)).toEqual({ type: 'after.one' })
      expect(await receiveWithin(layer, 'gone', 100)).toBeUndefined()
    })
  })
}

export function abortCases(ctx: LayerTestContext): void {
  describe('cancelling a receive', () => {
    it('rejects at once with the reason of an already-aborted signal and takes nothing', async () => {
      const layer = await ctx.make()
      await layer.send('ready', { type: 'still.here' })
      const controller = new AbortController()
      const reason = new Error('changed my mind')
      controller.abort(reason)
      expect(await rejectionOf(() => layer.receive('ready', { signal: controller.signal }))).toBe(reason)
      expect(await layer.receive('ready')).toEqual({ type: 'still.here' })
    })

    it('rejects a waiting receive with the abort reason and keeps the next message for the next receive', async () => {
      const layer = await ctx.make()
      const controller = new AbortController()
      const pending = layer.receive('later', { signal: controller.signal })
      await sleep(20)
      controller.abort()
      const error = await rejectionOf(() => pending)
      expect(error.name).toBe('AbortError')
      await layer.send('later', { type: 'kept' })
      expect(await receiveWithin(layer, 'later', 1000)).toEqual({ type: 'kept' })
    })

    it('never loses or reorders a message when receives are cancelled around sends', async () => {
      const layer = await ctx.make({ capacity: 1000 })
      const channel = await layer.newChannel()
      const received: Message[] = []
      const total = 150
      for (let i = 0; i < total; i++) {
        const controller = new AbortController()
        const pending = layer.receive(channel, { signal: controller.signal }).then(
          (message) => received.push(message),
          () => undefined,
        )
        // Interleave the send and the abort at varying offsets, including the same tick.
        const sendFirst = i % 3 === 0
        if (sendFirst) await layer.send(channel, { type: 'seq.item', i })
        if (i % 2 === 0) await sleep(i % 5)
        controller.abort()
        if (!sendFirst) await layer.send(channel, { type: 'seq.item', i })
        await pending
      }
      for (;;) {
        const message = await receiveWithin(layer, channel, 300)
        if (message === undefined) break
        received.push(message)
      }
      expect(received.map((m) => m.i)).toEqual(Array.from({ length: total }, (_, i) => i))
    })

    it('works with AbortSignal.timeout', async () => {
      const layer = await ctx.make()
      const error = await rejectionOf(() => layer.receive('silent', { signal: AbortSignal.timeout(50) }))
      expect(error.name).toBe('TimeoutError')
    })
  })
}
