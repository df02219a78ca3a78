import { describe } from 'vitest'

import { abortCases, expiryCases } from './expiry-abort.js'
import { capacityCases, groupCases } from './capacity-groups.js'
import { layerTestContext, type MakeLayer } from './context.js'
import { delayedSendCases } from './delayed-send.js'
import { lifecycleCases } from './lifecycle.js'
import { sendReceiveCases } from './send-receive.js'
import { validationCases } from './validation.js'

export type { MakeLayer } from './context.js'

/**
 * The channel-layer spec as one suite. Every backend runs it:
 * `describeChannelLayer('memory', (options) => new InMemoryChannelLayer(options))`.
 * `makeLayer` must return a fresh, empty layer each call (for Redis: a unique key prefix).
 */
export function describeChannelLayer(name: string, makeLayer: MakeLayer): void {
  describe(`channel layer conformance: ${name}`, () => {
    const ctx = layerTestContext(makeLayer)
    sendReceiveCases(ctx)
    capacityCases(ctx)
    groupCases(ctx)
    expiryCases(ctx)
    abortCases(ctx)
    validationCases(ctx)
    lifecycleCases(ctx, makeLayer)
    delayedSendCases(ctx, makeLayer)
  })
}
