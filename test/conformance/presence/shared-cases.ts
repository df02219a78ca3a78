import { describe, expect, it } from 'vitest'

import { PresenceFullError } from '../../../src/errors.js'
import type { LayerOptions } from '../../../src/index.js'
import { rejectionOf, receiveWithin } from '../context.js'
import type { PresenceTestContext } from './context.js'

export function sharedCases(ctx: PresenceTestContext): void {
  // Declared only where a pair exists (memory has no shared store): nothing is ever skipped under CI.
  if (ctx.extras.makePair === undefined) return
  describe('two layer instances on one store', () => {
    const pair = async (options?: LayerOptions) => {
      const layers = await ctx.extras.makePair!({ presence: ['chat.*'], ...options })
      ctx.track(...layers)
      return layers
    }

    it('lists from either what both joined, and leaves from either', async () => {
      const [a, b] = await pair()
      const fromA = await a.newChannel()
      const fromB = await b.newChannel()
      await a.presence.join('chat.room', fromA, { on: 'a' })
      await b.presence.join('chat.room', fromB, { on: 'b' })
      await a.presence.join('chat.room', 'user.plain')
      // Joins in the same millisecond tie on joinedAt (then order by channel name): compare as sets.
      const byChannel = (x: { channel: string }, y: { channel: string }): number => x.channel.localeCompare(y.channel)
      for (const layer of [a, b]) {
        const listed = (await layer.presence.list('chat.room')).map(({ channel, info }) => ({ channel, info }))
        expect(listed.sort(byChannel)).toEqual(
          [
            { channel: fromA, info: { on: 'a' } },
            { channel: fromB, info: { on: 'b' } },
            { channel: 'user.plain', info: {} },
          ].sort(byChannel),
        )
      }
      await b.presence.leave('chat.room', fromA)
      await a.presence.leave('chat.room', 'user.plain')
      expect((await a.presence.list('chat.room')).map((entry) => entry.channel)).toEqual([fromB])
    })

    it('announces a join on one instance to members on the other', async () => {
      const [a, b] = await pair()
      const watcher = await b.newChannel()
      await b.groupAdd('chat.room', watcher)
      await a.presence.join('chat.room', await a.newChannel(), { user: 'ada' })
      expect(await receiveWithin(b, watcher, 2_000)).toMatchObject({ type: 'presence.join', info: { user: 'ada' } })
    })

    it('holds maxPresence across instances', async () => {
      const [a, b] = await pair({ maxPresence: 2 })
      await a.presence.join('chat.room', 'user.a')
      await b.presence.join('chat.room', 'user.b')
      expect(await rejectionOf(() => a.presence.join('chat.room', 'user.c'))).toBeInstanceOf(PresenceFullError)
      expect(await rejectionOf(() => b.presence.join('chat.room', 'user.c'))).toBeInstanceOf(PresenceFullError)
    })

    it('drops the entries of an instance that closed, within staleAfterMs', async () => {
      const [a, b] = await pair()
      const gone = await b.newChannel()
      await b.presence.join('chat.room', gone)
      await a.presence.join('chat.room', 'user.plain')
      await b.close()
      expect((await a.presence.list('chat.room')).map((entry) => entry.channel)).toEqual(['user.plain'])
    })
  })
}
