import { afterEach } from 'vitest'

import type { ChannelLayer, LayerOptions } from '../../../src/index.js'

/** The layer under test (every `ChannelLayer` has `presence`). */
export type PresenceLayer = ChannelLayer

/** A fresh, empty layer of the backend under test (Redis: a prefix of its own). */
export type MakePresenceLayer = (options?: LayerOptions) => PresenceLayer | Promise<PresenceLayer>

/** What only some backends can do; a case needing one is not declared where it is absent. */
export interface PresenceExtras {
  /** Two layer instances (two processes' worth) sharing one store, e.g. one Redis prefix. */
  makePair?(options?: LayerOptions): Promise<readonly [PresenceLayer, PresenceLayer]>
}

export interface PresenceTestContext {
  readonly extras: PresenceExtras
  /** A new layer with `presence: ['chat.*']` unless `options` says otherwise, closed after the test. */
  make(options?: LayerOptions): Promise<PresenceLayer>
  /** Registers layers made elsewhere (`extras.makePair`) for the same cleanup. */
  track(...layers: PresenceLayer[]): void
}

export const PRESENCE_OPTIONS: LayerOptions = { presence: ['chat.*'] }

export function presenceTestContext(makeLayer: MakePresenceLayer, extras: PresenceExtras): PresenceTestContext {
  const open: PresenceLayer[] = []
  afterEach(async () => {
    const layers = open.splice(0)
    for (const layer of layers) await layer.flush().catch(() => undefined)
    for (const layer of layers) await layer.close()
  })
  return {
    extras,
    async make(options) {
      const layer = await makeLayer({ ...PRESENCE_OPTIONS, ...options })
      open.push(layer)
      return layer
    },
    track(...layers) {
      open.push(...layers)
    },
  }
}
