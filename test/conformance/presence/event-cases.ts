import { describe, expect, it } from 'vitest'

import { receiveWithin } from '../context.js'
import type { PresenceTestContext } from './context.js'

export function eventCases(ctx: PresenceTestContext): void {
  describe('events to the group', () => {
    it('sends presence.join with the info, and presence.leave, to the group members', async () => {
      const layer = await ctx.make()
      const watcher = await layer.newChannel()
      await layer.groupAdd('chat.room', watcher)
      await layer.presence.join('chat.room', 'user.ada', { user: 'ada' })
      expect(await receiveWithin(layer, watcher, 2_000)).toEqual({
        type: 'presence.join',
        channel: 'user.ada',
        info: { user: 'ada' },
      })
      await layer.presence.leave('chat.room', 'user.ada')
      expect(await receiveWithin(layer, watcher, 2_000)).toEqual({ type: 'presence.leave', channel: 'user.ada' })
    })

    it('announces a re-join with the new info, and sends no leave for someone absent', async () => {
      const layer = await ctx.make()
      const watcher = await layer.newChannel()
      await layer.groupAdd('chat.room', watcher)
      await layer.presence.join('chat.room', 'user.ada', { status: 'online' })
      await layer.presence.join('chat.room', 'user.ada', { status: 'away' })
      await layer.presence.leave('chat.room', 'user.bob')
      await layer.send(watcher, { type: 'test.marker' })
      const got = [1, 2, 3].map(() => receiveWithin(layer, watcher, 2_000))
      expect(await Promise.all(got)).toEqual([
        { type: 'presence.join', channel: 'user.ada', info: { status: 'online' } },
        { type: 'presence.join', channel: 'user.ada', info: { status: 'away' } },
        { type: 'test.marker' },
      ])
    })

    it('sends nothing to other groups, and nothing for a refused join', async () => {
      const layer = await ctx.make({ maxPresence: 1 })
      const other = await layer.newChannel()
      const watcher = await layer.newChannel()
      await layer.groupAdd('chat.other', other)
      await layer.groupAdd('chat.room', watcher)
      await layer.presence.join('chat.room', 'user.ada')
      await layer.presence.join('chat.room', 'user.bob').catch(() => undefined)
      await layer.presence.join('chat.room', 'user.eve', { bad: Number.NaN }).catch(() => undefined)
      expect(await receiveWithin(layer, watcher, 2_000)).toMatchObject({ channel: 'user.ada' })
      expect(await receiveWithin(layer, watcher, 100)).toBeUndefined()
      expect(await receiveWithin(layer, other, 100)).toBeUndefined()
    })
  })
}
