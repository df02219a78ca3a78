import { describe, expect, it } from 'vitest'

import { HISTORY_OPTIONS, offsets, positions, range, receiveExactly, type HistoryTestContext } from './context.js'

/** Two layer instances sharing storage, as two processes on one Redis: one history per group between them. */
export function siblingCases(ctx: HistoryTestContext): void {
  // Declared only where a sibling exists (memory has no shared storage): nothing is ever skipped under CI.
  if (!ctx.hasSibling) return
  describe('across layer instances', () => {
    it('numbers one group’s messages once, whichever instance sends them', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const sibling = await ctx.sibling(layer, HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      const { position } = await layer.groupAdd('chat.room', channel)
      for (let n = 1; n <= 6; n++) {
        await (n % 2 === 0 ? sibling : layer).groupSend('chat.room', { type: 'chat.message', n })
      }
      const received = await receiveExactly(layer, channel, 6)
      expect(offsets(received)).toEqual(range(1, 6))
      expect(new Set(positions(received).map((p) => p.epoch))).toEqual(new Set([position?.epoch]))
      const read = await sibling.groupHistory('chat.room')
      expect(read.position).toEqual({ offset: 6, epoch: position?.epoch })
      expect(offsets(read.messages)).toEqual(range(1, 6))
    })

    it('recovers on one instance what the other sent, racing both instances’ sends', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const sibling = await ctx.sibling(layer, HISTORY_OPTIONS)
      for (let n = 1; n <= 20; n++) await sibling.groupSend('chat.room', { type: 'chat.message', n })
      const { position } = await layer.groupHistory('chat.room')
      const channel = await layer.newChannel()
      const send = (n: number): Promise<void> =>
        (n % 2 === 0 ? sibling : layer).groupSend('chat.room', { type: 'chat.message', n })
      const before = Promise.all(range(21, 80).map(send))
      const join = layer.groupAdd('chat.room', channel, { recover: { offset: 5, epoch: position.epoch } })
      const after = Promise.all(range(81, 140).map(send))
      const [result] = await Promise.all([join, before, after])
      expect(result).toMatchObject({ recovered: true })
      expect(offsets(await receiveExactly(layer, channel, 135))).toEqual(range(6, 140))
    })
  })
}
