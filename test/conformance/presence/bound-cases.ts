import { describe, expect, it } from 'vitest'

import {
  InvalidMessageError,
  MessageNotSerializableError,
  MessageTooLargeError,
  PresenceFullError,
} from '../../../src/errors.js'
import type { PresenceInfo } from '../../../src/layers/presence/presence-types.js'
import { rejectionOf } from '../context.js'
import type { PresenceTestContext } from './context.js'

export function boundCases(ctx: PresenceTestContext): void {
  describe('bounds', () => {
    it('refuses a join past maxPresence, still takes re-joins, and takes a join again after a leave', async () => {
      const layer = await ctx.make({ maxPresence: 3 })
      for (const user of ['a', 'b', 'c']) await layer.presence.join('chat.room', `user.${user}`)
      const error = await rejectionOf(() => layer.presence.join('chat.room', 'user.d'))
      expect(error).toBeInstanceOf(PresenceFullError)
      expect(error.code).toBe('SWY_PRESENCE_FULL')
      expect(error.message).toMatch(/`maxPresence`/)
      await layer.presence.join('chat.room', 'user.a', { again: true })
      await layer.presence.join('chat.other', 'user.d')
      expect(await layer.presence.list('chat.room')).toHaveLength(3)
      await layer.presence.leave('chat.room', 'user.b')
      await layer.presence.join('chat.room', 'user.d')
      expect((await layer.presence.list('chat.room')).map((entry) => entry.channel)).toEqual([
        'user.a',
        'user.c',
        'user.d',
      ])
    })

    it('keeps the bound under concurrent joins', async () => {
      const layer = await ctx.make({ maxPresence: 5 })
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => layer.presence.join('chat.room', `user.u${i}`)),
      )
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5)
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(PresenceFullError)
      }
      expect(await layer.presence.list('chat.room')).toHaveLength(5)
    })

    it('refuses info larger than maxPresenceInfoBytes with MessageTooLargeError naming the option', async () => {
      const layer = await ctx.make({ maxPresenceInfoBytes: 64 })
      await layer.presence.join('chat.room', 'user.ok', { text: 'x'.repeat(40) })
      const error = await rejectionOf(() => layer.presence.join('chat.room', 'user.big', { text: 'x'.repeat(80) }))
      expect(error).toBeInstanceOf(MessageTooLargeError)
      expect(error.code).toBe('SWY_MESSAGE_TOO_LARGE')
      expect(error.message).toMatch(/`maxPresenceInfoBytes`/)
      expect((await layer.presence.list('chat.room')).map((entry) => entry.channel)).toEqual(['user.ok'])
    })

    it('keeps the default info limit of 1 024 bytes', async () => {
      const layer = await ctx.make()
      await layer.presence.join('chat.room', 'user.ok', { text: 'x'.repeat(1_000) })
      const error = await rejectionOf(() => layer.presence.join('chat.room', 'user.big', { text: 'x'.repeat(1_030) }))
      expect(error).toBeInstanceOf(MessageTooLargeError)
    })

    it('refuses info that is not a plain JSON object, and keeps nothing of it', async () => {
      const layer = await ctx.make()
      class User {
        name = 'ada'
      }
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      const notObjects: unknown[] = ['ada', 42, null, ['ada'], new User(), new Map()]
      for (const info of notObjects) {
        const error = await rejectionOf(() => layer.presence.join('chat.room', 'user.x', info as PresenceInfo))
        expect(error, String(info)).toBeInstanceOf(InvalidMessageError)
      }
      const notJson: unknown[] = [
        { at: new Date() },
        { n: Number.NaN },
        { n: 1n },
        { f: () => 1 },
        { bytes: new Uint8Array([1]) },
        { user: new User() },
        { missing: undefined },
        cyclic,
      ]
      for (const info of notJson) {
        const error = await rejectionOf(() => layer.presence.join('chat.room', 'user.x', info as PresenceInfo))
        expect(error).toBeInstanceOf(MessageNotSerializableError)
      }
      expect(await layer.presence.list('chat.room')).toEqual([])
    })

    it('keeps a copy of the info, not the caller’s object', async () => {
      const layer = await ctx.make()
      const info = { user: 'ada', tags: ['a'] }
      await layer.presence.join('chat.room', 'user.ada', info)
      info.user = 'eve'
      info.tags.push('b')
      expect((await layer.presence.list('chat.room'))[0]!.info).toEqual({ user: 'ada', tags: ['a'] })
    })
  })
}
