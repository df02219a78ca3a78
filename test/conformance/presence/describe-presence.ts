import { describe } from 'vitest'

import { presenceTestContext, type MakePresenceLayer, type PresenceExtras } from './context.js'
import { boundCases } from './bound-cases.js'
import { eventCases } from './event-cases.js'
import { membershipCases } from './membership-cases.js'
import { sharedCases } from './shared-cases.js'

export type { MakePresenceLayer, PresenceExtras, PresenceLayer } from './context.js'

/**
 * The presence spec (issue 16: `layer.presence`) as one suite, run on every layer:
 * `describePresence('memory', (options) => new InMemoryChannelLayer(options))`. `makeLayer` must return a fresh,
 * empty layer each call (Redis: a key prefix of its own). `extras` enables the cases a backend supports beyond one
 * instance (see `PresenceExtras`).
 */
export function describePresence(name: string, makeLayer: MakePresenceLayer, extras: PresenceExtras = {}): void {
  describe(`presence conformance: ${name}`, () => {
    const ctx = presenceTestContext(makeLayer, extras)
    membershipCases(ctx)
    eventCases(ctx)
    boundCases(ctx)
    sharedCases(ctx)
  })
}
