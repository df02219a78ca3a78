import { describe, expect, it } from 'vitest'

import { HistoryNotEnabledError, InvalidOptionError, POSITION_KEY } from '../../../src/index.js'
import { rejectionOf } from '../context.js'
import { HISTORY_OPTIONS, offsets, range, sendSeries, type HistoryTestContext } from './context.js'

export function readCases(ctx: HistoryTestContext): void {
  describe('groupHistory', () => {
    it('returns every kept message oldest first, each with its position, and the current position', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      await sendSeries(layer, 'chat.room', 10)
      const { messages, position } = await layer.groupHistory('chat.room')
      expect(offsets(messages)).toEqual(range(1, 10))
      expect(messages[0]).toEqual({
        type: 'chat.message',
        n: 1,
        [POSITION_KEY]: { group: 'chat.room', offset: 1, epoch: position.epoch },
      })
      expect(position).toEqual({ offset: 10, epoch: expect.any(String) as string })
    })

    it.each([
      ['limit 3: the latest 3', { limit: 3 }, [8, 9, 10]],
      ['limit past the kept count: all', { limit: 50 }, range(1, 10)],
      ['afterOffset 4: the rest', { afterOffset: 4 }, range(5, 10)],
      ['afterOffset 4, limit 2: the first 2 after it', { afterOffset: 4, limit: 2 }, [5, 6]],
      ['afterOffset 0: all', { afterOffset: 0 }, range(1, 10)],
      ['afterOffset at the current offset: none', { afterOffset: 10 }, []],
      ['afterOffset past the current offset: none', { afterOffset: 50 }, []],
    ])('reads %s', async (_, options, expected) => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      await sendSeries(layer, 'chat.room', 10)
      const history = await layer.groupHistory('chat.room', options)
      expect(offsets(history.messages)).toEqual(expected)
      expect(history.position.offset).toBe(10)
    })

    it('reads from the oldest kept message when afterOffset is older (the gap shows in the first offset)', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      await sendSeries(layer, 'tiny.room', 10)
      expect(offsets((await layer.groupHistory('tiny.room', { afterOffset: 2 })).messages)).toEqual(range(6, 10))
      expect(offsets((await layer.groupHistory('tiny.room', { afterOffset: 2, limit: 2 })).messages)).toEqual([6, 7])
    })

    it('starts a position on a group that has none, which a later add and send keep', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const empty = await layer.groupHistory('chat.room')
      expect(empty).toEqual({ messages: [], position: { offset: 0, epoch: expect.any(String) as string } })
      expect(await layer.groupAdd('chat.room', await layer.newChannel())).toEqual({ position: empty.position })
      await layer.groupSend('chat.room', { type: 'chat.message' })
      expect((await layer.groupHistory('chat.room')).position).toEqual({ offset: 1, epoch: empty.position.epoch })
    })

    it('refuses a group without history with HistoryNotEnabledError', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const error = await rejectionOf(() => layer.groupHistory('plain.room'))
      expect(error).toBeInstanceOf(HistoryNotEnabledError)
      expect(error.code).toBe('SWY_HISTORY_NOT_ENABLED')
      expect(error.message).toContain('plain.room')
      const none = await ctx.make()
      await expect(none.groupHistory('chat.room')).rejects.toBeInstanceOf(HistoryNotEnabledError)
    })

    it.each([
      ['options null', null, 'options'],
      ['limit 0', { limit: 0 }, 'limit'],
      ['a negative limit', { limit: -1 }, 'limit'],
      ['a fractional limit', { limit: 1.5 }, 'limit'],
      ['a string limit', { limit: '3' }, 'limit'],
      ['a NaN limit', { limit: Number.NaN }, 'limit'],
      ['a negative afterOffset', { afterOffset: -1 }, 'afterOffset'],
      ['a fractional afterOffset', { afterOffset: 1.5 }, 'afterOffset'],
      ['a string afterOffset', { afterOffset: '1' }, 'afterOffset'],
      ['a null afterOffset', { afterOffset: null }, 'afterOffset'],
    ])('refuses %s with InvalidOptionError, even on a group without history', async (_, options, option) => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      for (const group of ['chat.room', 'plain.room']) {
        const error = await rejectionOf(() => layer.groupHistory(group, options as never))
        expect(error).toBeInstanceOf(InvalidOptionError)
        expect(error.code).toBe('SWY_INVALID_OPTION')
        expect(error).toMatchObject({ option })
      }
    })
  })
}
