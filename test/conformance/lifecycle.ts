import { describe, expect, it } from 'vitest'

import { InvalidOptionError, LayerClosedError, type LayerOptions } from '../../src/index.js'
import { receiveWithin, rejectionOf, type LayerTestContext, type MakeLayer } from './context.js'

export function lifecycleCases(ctx: LayerTestContext, makeLayer: MakeLayer): void {
  describe('options', () => {
    const bad: readonly (readonly [LayerOptions, string])[] = [
      [{ capacity: 0 }, 'capacity'],
      [{ capacity: -1 }, 'capacity'],
      [{ capacity: 1.5 }, 'capacity'],
      [{ capacity: '3' as unknown as number }, 'capacity'],
      [{ expiryMs: 0 }, 'expiryMs'],
      [{ groupExpiryMs: Number.NaN }, 'groupExpiryMs'],
      [{ maxMessageBytes: -5 }, 'maxMessageBytes'],
      [{ channelCapacity: { tiny: 0 } }, 'channelCapacity'],
      [{ channelCapacity: 'tiny' as unknown as Record<string, number> }, 'channelCapacity'],
      [{ expiry: 60 } as LayerOptions, 'expiryMs'],
    ]
    for (const [options, named] of bad) {
      it(`rejects ${JSON.stringify(options)} naming \`${named}\``, async () => {
        const error = await rejectionOf(async () => makeLayer(options))
        expect(error).toBeInstanceOf(InvalidOptionError)
        expect(error.code).toBe('SWY_INVALID_OPTION')
        expect(error.message).toContain(named)
      })
    }
  })

  describe('flush, close and stats', () => {
    it('flush drops every message and group but leaves the layer usable', async () => {
      const layer = await ctx.make()
      await layer.send('queued', { type: 'gone' })
      await layer.groupAdd('grp', 'member')
      await layer.flush()
      expect(await receiveWithin(layer, 'queued', 100)).toBeUndefined()
      await layer.groupSend('grp', { type: 'nobody.home' })
      expect(await receiveWithin(layer, 'member', 100)).toBeUndefined()
      await layer.send('queued', { type: 'after.flush' })
      expect((await layer.receive('queued')).type).toBe('after.flush')
    })

    it('close rejects pending receives and later calls with LayerClosedError, and is idempotent', async () => {
      const layer = await makeLayer()
      const pending = layer.receive('waiting')
      await new Promise((resolve) => setTimeout(resolve, 20))
      await layer.close()
      const error = await rejectionOf(() => pending)
      expect(error).toBeInstanceOf(LayerClosedError)
      expect(error.code).toBe('SWY_LAYER_CLOSED')
      await expect(layer.send('x', { type: 'x' })).rejects.toBeInstanceOf(LayerClosedError)
      await expect(layer.receive('x')).rejects.toBeInstanceOf(LayerClosedError)
      await expect(layer.groupSend('g', { type: 'x' })).rejects.toBeInstanceOf(LayerClosedError)
      await layer.close()
    })

    it('counts sent, received, dropped, rejected, expired and group sends', async () => {
      const layer = await ctx.make({ capacity: 1, expiryMs: 100 })
      expect(layer.stats()).toMatchObject({ sent: 0, received: 0, dropped: 0, rejected: 0, expired: 0, groupSends: 0 })
      await layer.send('a', { type: 'x' })
      await layer.receive('a')
      await layer.groupAdd('g', 'b')
      await layer.groupAdd('g', 'c')
      await layer.groupSend('g', { type: 'x' })
      await layer.groupSend('g', { type: 'x' })
      await expect(layer.send('b', { type: 'x' })).rejects.toThrow()
      await new Promise((resolve) => setTimeout(resolve, 200))
      // Expiry is noticed when a channel is next touched (Redis cannot count what nobody looks at).
      expect(await receiveWithin(layer, 'b', 100)).toBeUndefined()
      expect(await receiveWithin(layer, 'c', 100)).toBeUndefined()
      expect(layer.stats()).toMatchObject({ sent: 3, received: 1, dropped: 2, rejected: 1, expired: 2, groupSends: 2 })
    })
  })
}
