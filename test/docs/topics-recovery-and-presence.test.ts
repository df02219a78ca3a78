/**
 * docs/topics/recovery-and-presence.md: the page's layer, with history and presence on `chat.*`: a first load
 * reads the kept lines, the position to go on from and who is here.
 */
import { describe, expect, it } from 'vitest'

import type { InMemoryChannelLayer, MessagePosition, PresenceEntry, StreamPosition } from 'switchyard-channels'

import { docProject } from './doc-blocks.js'

const PAGE = 'docs/topics/recovery-and-presence.md'

interface LayerModule {
  layer: InMemoryChannelLayer
  firstLoad: (room: string) => Promise<{
    lines: unknown[]
    position: StreamPosition
    here: PresenceEntry[]
    last: MessagePosition | undefined
  }>
}

describe(PAGE, () => {
  it('keeps the history and presence the options promise, and reads them for a first load', async () => {
    const project = await docProject('docs/topics/recovery-and-presence.md', ['layer.ts'])
    const { layer, firstLoad } = await project.import<LayerModule>('layer.ts')
    try {
      const alice = await layer.newChannel()
      await layer.presence.join('chat.lobby', alice, { name: 'alice' })
      for (let n = 1; n <= 60; n++) await layer.groupSend('chat.lobby', { type: 'chat.line', text: `line ${n}` })
      const loaded = await firstLoad('lobby')
      // presence.join went through the group too: it is message 1, the lines are 2 to 61.
      expect(loaded.position.offset).toBe(61)
      expect(loaded.lines).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 11}`))
      expect(loaded.last).toEqual({ group: 'chat.lobby', offset: 61, epoch: loaded.position.epoch })
      expect(loaded.here.map((entry) => [entry.channel, entry.info])).toEqual([[alice, { name: 'alice' }]])
      // A group the options do not name keeps neither.
      await expect(layer.groupHistory('other')).rejects.toMatchObject({ code: 'SWY_HISTORY_NOT_ENABLED' })
      await expect(layer.presence.list('other')).rejects.toMatchObject({ code: 'SWY_PRESENCE_NOT_ENABLED' })
    } finally {
      await layer.close()
    }
  })
})
