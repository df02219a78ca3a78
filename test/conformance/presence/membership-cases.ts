import { describe, expect, it } from 'vitest'

import { InvalidChannelNameError, LayerClosedError, PresenceNotEnabledError } from '../../../src/errors.js'
import { rejectionOf, sleep } from '../context.js'
import type { PresenceTestContext } from './context.js'

export function membershipCases(ctx: PresenceTestContext): void {
  describe('join, list, leave', () => {
    it('lists nobody in a group nobody joined', async () => {
      const layer = await ctx.make()
      expect(await layer.presence.list('chat.empty')).toEqual([])
    })

    it('lists who joined, oldest first, with their info and when they joined', async () => {
      const layer = await ctx.make()
      const before = Date.now()
      await layer.presence.join('chat.room', 'user.ada', { user: 'ada', tags: ['admin'], n: 1.5 })
      await sleep(5)
      const process = await layer.newChannel()
      await layer.presence.join('chat.room', process, { user: 'bob' })
      const after = Date.now()
      const listed = await layer.presence.list('chat.room')
      expect(listed.map(({ channel, info }) => ({ channel, info }))).toEqual([
        { channel: 'user.ada', info: { user: 'ada', tags: ['admin'], n: 1.5 } },
        { channel: process, info: { user: 'bob' } },
      ])
      expect(listed[0]!.joinedAt).toBeGreaterThanOrEqual(before)
      expect(listed[0]!.joinedAt).toBeLessThan(listed[1]!.joinedAt)
      expect(listed[1]!.joinedAt).toBeLessThanOrEqual(after)
    })

    it('gives an entry empty info when join has none', async () => {
      const layer = await ctx.make()
      await layer.presence.join('chat.room', 'user.ada')
      expect(await layer.presence.list('chat.room')).toEqual([
        { channel: 'user.ada', info: {}, joinedAt: expect.any(Number) as number },
      ])
    })

    it('keeps groups apart', async () => {
      const layer = await ctx.make()
      await layer.presence.join('chat.one', 'user.ada')
      await layer.presence.join('chat.two', 'user.bob')
      expect((await layer.presence.list('chat.one')).map((entry) => entry.channel)).toEqual(['user.ada'])
      expect((await layer.presence.list('chat.two')).map((entry) => entry.channel)).toEqual(['user.bob'])
    })

    it('removes a member on leave, and ignores a leave of someone absent', async () => {
      const layer = await ctx.make()
      await layer.presence.join('chat.room', 'user.ada')
      await layer.presence.join('chat.room', 'user.bob')
      await layer.presence.leave('chat.room', 'user.ada')
      await layer.presence.leave('chat.room', 'user.ada')
      await layer.presence.leave('chat.room', 'user.nobody')
      expect((await layer.presence.list('chat.room')).map((entry) => entry.channel)).toEqual(['user.bob'])
      await layer.presence.leave('chat.room', 'user.bob')
      expect(await layer.presence.list('chat.room')).toEqual([])
    })

    it('on a re-join replaces the info and keeps joinedAt and the place in the list', async () => {
      const layer = await ctx.make()
      await layer.presence.join('chat.room', 'user.ada', { status: 'online' })
      await layer.presence.join('chat.room', 'user.bob')
      const [first] = await layer.presence.list('chat.room')
      await sleep(5)
      await layer.presence.join('chat.room', 'user.ada', { status: 'away' })
      const listed = await layer.presence.list('chat.room')
      expect(listed.map((entry) => entry.channel)).toEqual(['user.ada', 'user.bob'])
      expect(listed[0]).toEqual({ channel: 'user.ada', info: { status: 'away' }, joinedAt: first!.joinedAt })
    })

    it('is independent of group membership', async () => {
      const layer = await ctx.make()
      const channel = await layer.newChannel()
      await layer.groupAdd('chat.room', channel)
      expect(await layer.presence.list('chat.room')).toEqual([])
      await layer.presence.join('chat.room', 'user.ada')
      await layer.groupDiscard('chat.room', channel)
      expect((await layer.presence.list('chat.room')).map((entry) => entry.channel)).toEqual(['user.ada'])
    })

    it('is gone after flush', async () => {
      const layer = await ctx.make()
      await layer.presence.join('chat.room', 'user.ada')
      await layer.flush()
      expect(await layer.presence.list('chat.room')).toEqual([])
      await layer.presence.join('chat.room', 'user.bob')
      expect((await layer.presence.list('chat.room')).map((entry) => entry.channel)).toEqual(['user.bob'])
    })
  })

  describe('refusals', () => {
    it('refuses a group that matches no `presence` pattern, on join, leave and list', async () => {
      const layer = await ctx.make()
      for (const call of [
        () => layer.presence.join('lobby', 'user.ada'),
        () => layer.presence.leave('lobby', 'user.ada'),
        () => layer.presence.list('lobby'),
        () => layer.presence.list('chatroom'),
      ]) {
        const error = await rejectionOf(call)
        expect(error).toBeInstanceOf(PresenceNotEnabledError)
        expect(error.code).toBe('SWY_PRESENCE_NOT_ENABLED')
        expect(error.message).toMatch(/`presence`/)
      }
    })

    it('refuses every group when the option is absent', async () => {
      const layer = await ctx.make({ presence: [] })
      expect(await rejectionOf(() => layer.presence.list('chat.room'))).toBeInstanceOf(PresenceNotEnabledError)
    })

    it('refuses invalid group and channel names before anything else', async () => {
      const layer = await ctx.make()
      for (const call of [
        () => layer.presence.join('chat.room', 'bad name'),
        () => layer.presence.join('chat.bad name', 'user.ada'),
        () => layer.presence.join('chat.room', ''),
        () => layer.presence.leave('chat.room', 'a'.repeat(200)),
        () => layer.presence.list('chat:room'),
        () => layer.presence.join('chat.room', 42 as unknown as string),
      ]) {
        expect(await rejectionOf(call)).toBeInstanceOf(InvalidChannelNameError)
      }
      expect(await layer.presence.list('chat.room')).toEqual([])
    })

    it('refuses every call once the layer is closed', async () => {
      const layer = await ctx.make()
      await layer.close()
      for (const call of [
        () => layer.presence.join('chat.room', 'user.ada'),
        () => layer.presence.leave('chat.room', 'user.ada'),
        () => layer.presence.list('chat.room'),
      ]) {
        expect(await rejectionOf(call)).toBeInstanceOf(LayerClosedError)
      }
    })
  })
}
