import { describe, expect, it } from 'vitest'

import { InvalidMessageError, POSITION_KEY, positionOf } from '../../../src/index.js'
import { receiveWithin, rejectionOf, sleep } from '../context.js'
import {
  HISTORY_OPTIONS,
  offsets,
  positions,
  range,
  receiveExactly,
  sendSeries,
  type HistoryTestContext,
} from './context.js'

export function positionCases(ctx: HistoryTestContext): void {
  describe('positions', () => {
    it('numbers a group’s messages 1, 2, 3… in one epoch, the same for every member', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const [one, two] = [await layer.newChannel(), await layer.newChannel()]
      const { position } = await layer.groupAdd('chat.room', one)
      await layer.groupAdd('chat.room', two)
      await sendSeries(layer, 'chat.room', 10)
      const first = await receiveExactly(layer, one, 10)
      const second = await receiveExactly(layer, two, 10)
      expect(offsets(first)).toEqual(range(1, 10))
      expect(positions(first)).toEqual(positions(second))
      for (const [i, message] of first.entries()) {
        expect(message).toEqual({
          type: 'chat.message',
          n: i + 1,
          [POSITION_KEY]: { group: 'chat.room', offset: i + 1, epoch: position?.epoch },
        })
      }
      expect(typeof position?.epoch).toBe('string')
      expect(position?.epoch.length).toBeGreaterThan(0)
      expect((await layer.groupHistory('chat.room')).position).toEqual({ offset: 10, epoch: position?.epoch })
    })

    it('keeps one count per group, and separate epochs', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      await layer.groupAdd('chat.a', channel)
      await layer.groupAdd('chat.b', channel)
      await layer.groupSend('chat.a', { type: 'chat.message' })
      await layer.groupSend('chat.b', { type: 'chat.message' })
      await layer.groupSend('chat.a', { type: 'chat.message' })
      const received = positions(await receiveExactly(layer, channel, 3))
      expect(received.map(({ group, offset }) => [group, offset])).toEqual([
        ['chat.a', 1],
        ['chat.b', 1],
        ['chat.a', 2],
      ])
      expect(received[0]?.epoch).toBe(received[2]?.epoch)
      expect(received[0]?.epoch).not.toBe(received[1]?.epoch)
    })

    it('leaves groups without history exactly as before: no position, {} from groupAdd', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      const result = await layer.groupAdd('plain.room', channel)
      expect(result).toEqual({})
      expect(Object.keys(result)).toEqual([])
      await layer.groupSend('plain.room', { type: 'chat.message', n: 1 })
      const message = await receiveWithin(layer, channel, 1_000)
      expect(message).toEqual({ type: 'chat.message', n: 1 })
      expect(message !== undefined && POSITION_KEY in message).toBe(false)
    })

    it('resolves groupAdd to { position } only, offset 0 before any message', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const result = await layer.groupAdd('chat.new', await layer.newChannel())
      expect(Object.keys(result)).toEqual(['position'])
      expect(result.position).toEqual({ offset: 0, epoch: expect.any(String) as string })
      await layer.groupSend('chat.new', { type: 'chat.message' })
      const again = await layer.groupAdd('chat.new', await layer.newChannel())
      expect(again).toEqual({ position: { offset: 1, epoch: result.position?.epoch } })
    })

    it('keeps exactly the last `size` messages', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      await sendSeries(layer, 'tiny.room', 12)
      const history = await layer.groupHistory('tiny.room')
      expect(offsets(history.messages)).toEqual(range(8, 12))
      expect(history.messages.map((message) => message.n)).toEqual(range(8, 12))
      expect(history.position.offset).toBe(12)
    })

    it('keeps a message at most `ttlMs`, and the position after its messages expired', async () => {
      const layer = await ctx.make({ history: { 'chat.*': { size: 100, ttlMs: 200 } } })
      await sendSeries(layer, 'chat.room', 2)
      const { position } = await layer.groupHistory('chat.room')
      await sleep(300)
      const expired = await layer.groupHistory('chat.room')
      expect(expired).toEqual({ messages: [], position })
      await layer.groupSend('chat.room', { type: 'chat.message', n: 3 })
      const history = await layer.groupHistory('chat.room')
      expect(offsets(history.messages)).toEqual([3])
      expect(history.position).toEqual({ offset: 3, epoch: position.epoch })
    })

    it('loses the position max(ttlMs, groupExpiryMs) after the last message or add: a new epoch at 0', async () => {
      const layer = await ctx.make({ groupExpiryMs: 600, history: { 'chat.*': { size: 100, ttlMs: 200 } } })
      await layer.groupSend('chat.room', { type: 'chat.message' })
      const { position } = await layer.groupHistory('chat.room')
      expect(position.offset).toBe(1)
      await sleep(400)
      // An add 400 ms after the message: the position now lives until 600 ms after this add.
      expect(await layer.groupAdd('chat.room', await layer.newChannel())).toEqual({ position })
      await sleep(400)
      expect((await layer.groupHistory('chat.room')).position).toEqual(position)
      await sleep(700)
      const lost = await layer.groupHistory('chat.room')
      expect(lost.messages).toEqual([])
      expect(lost.position.offset).toBe(0)
      expect(lost.position.epoch).not.toBe(position.epoch)
      await layer.groupSend('chat.room', { type: 'chat.message' })
      expect((await layer.groupHistory('chat.room')).position).toEqual({ offset: 1, epoch: lost.position.epoch })
    })

    it('loses every history on flush(): new epochs, offsets from 0', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      await sendSeries(layer, 'chat.room', 3)
      const before = await layer.groupHistory('chat.room')
      await layer.flush()
      const after = await layer.groupHistory('chat.room')
      expect(after.messages).toEqual([])
      expect(after.position.offset).toBe(0)
      expect(after.position.epoch).not.toBe(before.position.epoch)
      const channel = await layer.newChannel()
      const result = await layer.groupAdd('chat.room', channel, { recover: before.position })
      expect(result).toEqual({ position: after.position, recovered: false })
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
    })

    it('keeps history for a group with no member, and groupDiscard does not touch it', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      await layer.groupAdd('chat.room', channel)
      await layer.groupDiscard('chat.room', channel)
      await sendSeries(layer, 'chat.room', 2)
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
      expect(offsets((await layer.groupHistory('chat.room')).messages)).toEqual([1, 2])
    })

    it(`refuses a user message carrying ${POSITION_KEY}, on send and groupSend`, async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const forged = { type: 'chat.message', [POSITION_KEY]: { group: 'chat.room', offset: 99, epoch: 'forged' } }
      for (const attempt of [() => layer.send('some-channel', forged), () => layer.groupSend('chat.room', forged)]) {
        const error = await rejectionOf(attempt)
        expect(error).toBeInstanceOf(InvalidMessageError)
        expect(error.code).toBe('SWY_INVALID_MESSAGE')
        expect(error.message).toContain(POSITION_KEY)
      }
      expect((await layer.groupHistory('chat.room')).position.offset).toBe(0)
    })
  })

  describe('positionOf', () => {
    it('reads a received history message, and nothing else', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      const { position } = await layer.groupAdd('chat.room', channel)
      await layer.groupSend('chat.room', { type: 'chat.message' })
      const message = await receiveWithin(layer, channel, 1_000)
      expect(message && positionOf(message)).toEqual({ group: 'chat.room', offset: 1, epoch: position?.epoch })
      expect(positionOf({ type: 'chat.message' })).toBeUndefined()
    })

    it.each([
      ['null', null],
      ['a string', 'chat.room:1'],
      ['no group', { offset: 1, epoch: 'e' }],
      ['a negative offset', { group: 'g', offset: -1, epoch: 'e' }],
      ['a fractional offset', { group: 'g', offset: 1.5, epoch: 'e' }],
      ['a string offset', { group: 'g', offset: '1', epoch: 'e' }],
      ['an unsafe offset', { group: 'g', offset: 2 ** 53, epoch: 'e' }],
      ['a number epoch', { group: 'g', offset: 1, epoch: 1 }],
    ])('is undefined for a position with %s', (_, value) => {
      expect(positionOf({ type: 'x', [POSITION_KEY]: value })).toBeUndefined()
    })

    it('takes offset 0 and drops extra keys', () => {
      expect(positionOf({ type: 'x', [POSITION_KEY]: { group: 'g', offset: 0, epoch: 'e', extra: true } })).toEqual({
        group: 'g',
        offset: 0,
        epoch: 'e',
      })
    })
  })
}
