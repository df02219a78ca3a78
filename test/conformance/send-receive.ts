import { describe, expect, it } from 'vitest'

import { ChannelNotLocalError, type Message } from '../../src/index.js'
import { receiveWithin, rejectionOf, sleep, type LayerTestContext } from './context.js'

export function sendReceiveCases(ctx: LayerTestContext): void {
  describe('send and receive', () => {
    it('delivers a message unchanged', async () => {
      const layer = await ctx.make({ capacity: 3 })
      await layer.send('test-channel-1', { type: 'test.message', text: 'Ahoy-hoy!' })
      expect(await layer.receive('test-channel-1')).toEqual({ type: 'test.message', text: 'Ahoy-hoy!' })
    })

    it('keeps FIFO order per channel', async () => {
      const layer = await ctx.make({ capacity: 3 })
      for (const type of ['message.1', 'message.2', 'message.3']) await layer.send('test-channel-3', { type })
      const types = []
      for (let i = 0; i < 3; i++) types.push((await layer.receive('test-channel-3')).type)
      expect(types).toEqual(['message.1', 'message.2', 'message.3'])
    })

    it('keeps channels apart', async () => {
      const layer = await ctx.make()
      await layer.send('chan-a', { type: 'to.a' })
      await layer.send('chan-b', { type: 'to.b' })
      expect((await layer.receive('chan-b')).type).toBe('to.b')
      expect((await layer.receive('chan-a')).type).toBe('to.a')
      expect(await receiveWithin(layer, 'chan-a', 100)).toBeUndefined()
    })

    it('wakes a receive that started before the send', async () => {
      const layer = await ctx.make()
      const pending = layer.receive('late-channel')
      await sleep(50)
      await layer.send('late-channel', { type: 'late.message' })
      expect(await pending).toEqual({ type: 'late.message' })
    })

    it('gives each message to exactly one of several waiting receivers', async () => {
      const layer = await ctx.make()
      const receivers = [0, 1, 2].map(() => layer.receive('shared-work'))
      await sleep(20)
      for (let i = 0; i < 3; i++) await layer.send('shared-work', { type: 'work.item', i })
      const got = await Promise.all(receivers)
      expect(got.map((m) => m.i).sort()).toEqual([0, 1, 2])
      expect(await receiveWithin(layer, 'shared-work', 100)).toBeUndefined()
    })

    it('sends to and receives from a process-specific channel', async () => {
      const layer = await ctx.make()
      const channel = await layer.newChannel()
      await layer.send(channel, { type: 'test.message', text: 'Local only please' })
      expect(await layer.receive(channel)).toEqual({ type: 'test.message', text: 'Local only please' })
    })

    it('demultiplexes several process-specific channels of one layer', async () => {
      const layer = await ctx.make()
      const [one, two] = [await layer.newChannel(), await layer.newChannel()]
      const waitingTwo = layer.receive(two)
      await layer.send(one, { type: 'for.one' })
      await layer.send(two, { type: 'for.two' })
      expect((await waitingTwo).type).toBe('for.two')
      expect((await layer.receive(one)).type).toBe('for.one')
    })

    it('names new channels uniquely, validly, and in the wire format', async () => {
      const layer = await ctx.make()
      const other = await ctx.make()
      const names = [await layer.newChannel(), await layer.newChannel(), await other.newChannel()]
      expect(new Set(names).size).toBe(3)
      for (const name of names) {
        expect(name).toMatch(/^specific\.[0-9a-f]{32}![0-9a-f]{32}$/)
        expect(name.length).toBeLessThan(100)
      }
      // One layer shares one non-local part; another layer has its own.
      expect(names[0]!.split('!')[0]).toBe(names[1]!.split('!')[0])
      expect(names[0]!.split('!')[0]).not.toBe(names[2]!.split('!')[0])
      expect(await layer.newChannel('test-gr-chan-1')).toMatch(/^test-gr-chan-1\.[0-9a-f]{32}![0-9a-f]{32}$/)
    })

    it('refuses to receive on process-specific channels of another layer', async () => {
      const mine = await ctx.make()
      const theirs = await ctx.make()
      const theirChannel = await theirs.newChannel()
      const error = await rejectionOf(() => mine.receive(theirChannel))
      expect(error).toBeInstanceOf(ChannelNotLocalError)
      expect(error.code).toBe('SWY_CHANNEL_NOT_LOCAL')
      await expect(mine.receive('not-client-prefix!local_part')).rejects.toBeInstanceOf(ChannelNotLocalError)
    })

    it('round-trips every value type unchanged', async () => {
      const layer = await ctx.make()
      const message: Message = {
        type: 'data.types',
        text: 'unicode: żółć 日本語 🚀',
        empty: '',
        int: 42,
        negative: -17,
        big: 2 ** 40,
        float: 3.25,
        tiny: 1e-9,
        yes: true,
        no: false,
        nothing: null,
        bytes: new Uint8Array([0, 1, 2, 253, 254, 255]),
        list: [1, 'two', [3], { four: 4 }],
        nested: { a: { b: { c: ['deep'] } } },
      }
      await layer.send('types', message)
      const received = await layer.receive('types')
      expect(received).toEqual(message)
      expect(received.bytes).toBeInstanceOf(Uint8Array)
    })

    it('isolates the received message from later changes to the sent object', async () => {
      const layer = await ctx.make()
      const nested = { count: 1 }
      const sent = { type: 'isolation.check', nested, list: [1] }
      await layer.send('isolated', sent)
      nested.count = 2
      sent.list.push(2)
      expect(await layer.receive('isolated')).toEqual({ type: 'isolation.check', nested: { count: 1 }, list: [1] })
    })
  })
}
