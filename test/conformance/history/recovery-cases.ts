import { describe, expect, it } from 'vitest'

import { HistoryNotEnabledError, InvalidOptionError, type Message, type StreamPosition } from '../../../src/index.js'
import { receiveWithin, rejectionOf } from '../context.js'
import {
  HISTORY_OPTIONS,
  offsets,
  range,
  receiveExactly,
  sendSeries,
  type HistoryLayer,
  type HistoryTestContext,
} from './context.js'

/** Sends `count` messages to a history group and returns its position after the first `seen` of them. */
async function missedSome(layer: HistoryLayer, group: string, seen: number, count: number): Promise<StreamPosition> {
  const { position } = await layer.groupHistory(group)
  await sendSeries(layer, group, count)
  return { offset: position.offset + seen, epoch: position.epoch }
}

/** Fires `count` group sends at once, numbered from `first`, as other connections would; resolves when all are done. */
async function sendsRacing(layer: HistoryLayer, group: string, first: number, count: number): Promise<void> {
  await Promise.all(range(first, first + count - 1).map((n) => layer.groupSend(group, { type: 'chat.message', n })))
}

export function recoveryCases(ctx: HistoryTestContext): void {
  describe('recovery', () => {
    it('replays exactly the missed messages, in order, before the live ones', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const seen = await missedSome(layer, 'chat.room', 2, 5)
      const channel = await layer.newChannel()
      const result = await layer.groupAdd('chat.room', channel, { recover: seen })
      expect(result).toEqual({ position: { offset: 5, epoch: seen.epoch }, recovered: true })
      await layer.groupSend('chat.room', { type: 'chat.message', n: 6 })
      const received = await receiveExactly(layer, channel, 4)
      expect(offsets(received)).toEqual([3, 4, 5, 6])
      expect(received.map((message) => message.n)).toEqual([3, 4, 5, 6])
    })

    it('recovers from offset 0 (all of a short history) and at the current offset (nothing missed)', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const seen = await missedSome(layer, 'chat.room', 0, 3)
      const fromStart = await layer.newChannel()
      expect(await layer.groupAdd('chat.room', fromStart, { recover: seen })).toMatchObject({ recovered: true })
      expect(offsets(await receiveExactly(layer, fromStart, 3))).toEqual([1, 2, 3])
      const upToDate = await layer.newChannel()
      const current = { offset: 3, epoch: seen.epoch }
      expect(await layer.groupAdd('chat.room', upToDate, { recover: current })).toEqual({
        position: current,
        recovered: true,
      })
      expect(await receiveWithin(layer, upToDate, 100)).toBeUndefined()
    })

    it('replays past the channel’s capacity (the member asked for them), then live sends obey it again', async () => {
      const layer = await ctx.make({ capacity: 2, history: { 'chat.*': { size: 10, ttlMs: 60_000 } } })
      const seen = await missedSome(layer, 'chat.room', 0, 6)
      const channel = await layer.newChannel()
      expect(await layer.groupAdd('chat.room', channel, { recover: seen })).toMatchObject({ recovered: true })
      // The queue holds 6 > capacity: this live message is not queued past capacity. Memory drops it (counted), as any
      // group message to a full channel; Redis holds it back in the process queue until there is room. Either way
      // it never overtakes the replay, and it is never lost unseen.
      await layer.groupSend('chat.room', { type: 'chat.message', n: 7 })
      const received: Message[] = []
      for (let i = 0; i < 6; i++) received.push(await layer.receive(channel, { signal: AbortSignal.timeout(2_000) }))
      expect(offsets(received)).toEqual(range(1, 6))
      const late = await receiveWithin(layer, channel, 500)
      if (late === undefined) expect(layer.stats().dropped).toBe(1)
      else expect([late.n, layer.stats().dropped]).toEqual([7, 0])
    })

    it('loses no message and duplicates none when sends race the recovering join', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const seen = await missedSome(layer, 'chat.room', 10, 40)
      const channel = await layer.newChannel()
      const before = sendsRacing(layer, 'chat.room', 41, 60)
      const join = layer.groupAdd('chat.room', channel, { recover: seen })
      const after = sendsRacing(layer, 'chat.room', 101, 60)
      const [result] = await Promise.all([join, before, after])
      expect(result).toMatchObject({ recovered: true })
      const received = offsets(await receiveExactly(layer, channel, 150))
      expect(received).toEqual(range(11, 160))
    })

    it('loses nothing for a member that refreshes its membership while sends race', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      await layer.groupAdd('chat.room', channel)
      // Sends and refreshes interleaved, a refresh after every few sends, while copies are still on their way.
      const calls: Promise<unknown>[] = []
      for (const n of range(1, 60)) {
        calls.push(layer.groupSend('chat.room', { type: 'chat.message', n }))
        if (n % 5 === 0) calls.push(layer.groupAdd('chat.room', channel))
        if (n % 10 === 0) await Promise.all(calls)
      }
      await Promise.all(calls)
      expect(offsets(await receiveExactly(layer, channel, 60))).toEqual(range(1, 60))
    })

    it('replays nothing from another epoch, and still adds the channel', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const seen = await missedSome(layer, 'chat.room', 1, 3)
      const channel = await layer.newChannel()
      const result = await layer.groupAdd('chat.room', channel, { recover: { offset: 1, epoch: `${seen.epoch}x` } })
      expect(result).toEqual({ position: { offset: 3, epoch: seen.epoch }, recovered: false })
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
      await layer.groupSend('chat.room', { type: 'chat.message' })
      expect(offsets(await receiveExactly(layer, channel, 1))).toEqual([4])
    })

    it('replays nothing when a missed message is no longer kept (older than `size`)', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const { epoch } = await missedSome(layer, 'tiny.room', 0, 12)
      const tooOld = await layer.newChannel()
      expect(await layer.groupAdd('tiny.room', tooOld, { recover: { offset: 6, epoch } })).toEqual({
        position: { offset: 12, epoch },
        recovered: false,
      })
      expect(await receiveWithin(layer, tooOld, 100)).toBeUndefined()
      // Offset 7 is the oldest kept: everything after 7 is there.
      const justInTime = await layer.newChannel()
      expect(await layer.groupAdd('tiny.room', justInTime, { recover: { offset: 7, epoch } })).toMatchObject({
        recovered: true,
      })
      expect(offsets(await receiveExactly(layer, justInTime, 5))).toEqual(range(8, 12))
    })

    it('replays nothing when a missed message expired (`ttlMs`)', async () => {
      const layer = await ctx.make({ history: { 'chat.*': { size: 100, ttlMs: 200 } } })
      const { epoch } = await missedSome(layer, 'chat.room', 0, 2)
      await new Promise((resolve) => setTimeout(resolve, 300))
      await layer.groupSend('chat.room', { type: 'chat.message', n: 3 })
      const channel = await layer.newChannel()
      expect(await layer.groupAdd('chat.room', channel, { recover: { offset: 1, epoch } })).toEqual({
        position: { offset: 3, epoch },
        recovered: false,
      })
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
      expect(await layer.groupAdd('chat.room', channel, { recover: { offset: 2, epoch } })).toMatchObject({
        recovered: true,
      })
      expect(offsets(await receiveExactly(layer, channel, 1))).toEqual([3])
    })

    it('replays nothing for an offset past the current one', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const { epoch } = await missedSome(layer, 'chat.room', 0, 3)
      const channel = await layer.newChannel()
      expect(await layer.groupAdd('chat.room', channel, { recover: { offset: 4, epoch } })).toEqual({
        position: { offset: 3, epoch },
        recovered: false,
      })
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
    })

    it('replays nothing on a group with no position yet, and starts one', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      const result = await layer.groupAdd('chat.room', channel, { recover: { offset: 0, epoch: 'gone' } })
      expect(result).toEqual({ position: { offset: 0, epoch: expect.any(String) as string }, recovered: false })
      expect(result.position?.epoch).not.toBe('gone')
      expect((await layer.groupHistory('chat.room')).position).toEqual(result.position)
    })

    it('refuses recover on a group without history, and adds nothing', async () => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      const error = await rejectionOf(() =>
        layer.groupAdd('plain.room', channel, { recover: { offset: 0, epoch: 'e' } }),
      )
      expect(error).toBeInstanceOf(HistoryNotEnabledError)
      expect(error.code).toBe('SWY_HISTORY_NOT_ENABLED')
      expect(error.message).toContain('plain.room')
      await layer.groupSend('plain.room', { type: 'chat.message' })
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
    })

    it.each([
      ['options null', null, 'options'],
      ['recover null', { recover: null }, 'recover'],
      ['recover a string', { recover: '3:abc' }, 'recover'],
      ['no epoch', { recover: { offset: 1 } }, 'recover.epoch'],
      ['a number epoch', { recover: { offset: 1, epoch: 7 } }, 'recover.epoch'],
      ['an epoch of 65 characters', { recover: { offset: 1, epoch: 'e'.repeat(65) } }, 'recover.epoch'],
      ['no offset', { recover: { epoch: 'e' } }, 'recover.offset'],
      ['a negative offset', { recover: { offset: -1, epoch: 'e' } }, 'recover.offset'],
      ['a fractional offset', { recover: { offset: 1.5, epoch: 'e' } }, 'recover.offset'],
      ['a string offset', { recover: { offset: '1', epoch: 'e' } }, 'recover.offset'],
      ['an unsafe offset', { recover: { offset: 2 ** 53, epoch: 'e' } }, 'recover.offset'],
    ])('refuses %s with InvalidOptionError, even on a group without history', async (_, options, option) => {
      const layer = await ctx.make(HISTORY_OPTIONS)
      const channel = await layer.newChannel()
      for (const group of ['chat.room', 'plain.room']) {
        const error = await rejectionOf(() => layer.groupAdd(group, channel, options as never))
        expect(error).toBeInstanceOf(InvalidOptionError)
        expect(error.code).toBe('SWY_INVALID_OPTION')
        expect(error).toMatchObject({ option })
      }
      await layer.groupSend('chat.room', { type: 'chat.message' })
      expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
    })
  })
}
