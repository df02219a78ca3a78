import { describe, expect, it } from 'vitest'

import { cancelCases } from './cancel-cases.js'
import { taskStoreTestContext, type KnownBugs, type MakeTaskLayer } from './context.js'
import { deadLetterCases } from './dead-letter-cases.js'
import { expiryCases } from './expiry-cases.js'
import { flowCases } from './flow-cases.js'
import { lifecycleCases } from './lifecycle-cases.js'
import { progressCases } from './progress-cases.js'
import { queueCases } from './queue-cases.js'
import { rateLimitCases } from './rate-limit-cases.js'
import { registryCases } from './registry-cases.js'
import { scheduleCases } from './schedule-cases.js'
import { settleCases } from './settle-cases.js'
import { visibilityCases } from './visibility-cases.js'

export type { KnownBugs, MakeTaskLayer, TaskLayer, TaskLayerOptions } from './context.js'

/**
 * The task-store spec (`TaskQueue`, `DeadLetterStore`, `ProcessRegistry`) as one suite, run on every layer with a
 * task store: `describeTaskStore('memory', (options) => new InMemoryChannelLayer(options))`. `makeLayer` must return
 * a fresh, empty layer each call (for Redis: a key prefix of its own). Time is a fake `Date` the cases move by hand
 * (see `TestClock`), so no case sleeps for a visibility deadline, a retry delay or an hour of registry silence.
 * `knownBugs` names the cases this backend is known to fail (see `KnownBugs`); keep it empty where possible.
 */
export function describeTaskStore(name: string, makeLayer: MakeTaskLayer, knownBugs: KnownBugs = {}): void {
  describe(`task store conformance: ${name}`, () => {
    const ctx = taskStoreTestContext(makeLayer, knownBugs)
    describe('task queue', () => {
      queueCases(ctx)
      settleCases(ctx)
      visibilityCases(ctx)
      expiryCases(ctx)
      rateLimitCases(ctx)
      cancelCases(ctx)
      progressCases(ctx)
      flowCases(ctx)
    })
    deadLetterCases(ctx)
    registryCases(ctx)
    scheduleCases(ctx)
    lifecycleCases(ctx)
    // Runs after every case is declared (nested describes are collected after this body returns).
    it('names only cases of the suite in knownBugs', () => {
      expect(ctx.unmatchedBugs()).toEqual([])
    })
  })
}
