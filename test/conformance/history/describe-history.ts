import { describe } from 'vitest'

import { historyTestContext, type HistoryExtras, type MakeHistoryLayer } from './context.js'
import { positionCases } from './position-cases.js'
import { readCases } from './read-cases.js'
import { recoveryCases } from './recovery-cases.js'
import { siblingCases } from './sibling-cases.js'

export type { HistoryExtras, HistoryLayer, MakeHistoryLayer } from './context.js'

/**
 * Group history, positions and recovery (issue 16) as one suite, run on every backend:
 * `describeHistory('memory', (options) => new InMemoryChannelLayer(options))`. `makeLayer` must return a fresh,
 * empty layer each call (Redis: a key prefix of its own). The cases across layer instances run only with
 * `extras.makeSibling`, a second instance on the first one's storage.
 */
export function describeHistory(name: string, makeLayer: MakeHistoryLayer, extras: HistoryExtras = {}): void {
  describe(`group history conformance: ${name}`, () => {
    const ctx = historyTestContext(makeLayer, extras)
    positionCases(ctx)
    recoveryCases(ctx)
    readCases(ctx)
    siblingCases(ctx)
  })
}
