import { afterEach } from 'vitest'

import type { ChannelLayer, LayerOptions, Message } from '../../src/index.js'

/** Builds a fresh, empty layer of the backend under test (Redis: a unique key prefix per call). */
export type MakeLayer = (options?: LayerOptions) => ChannelLayer | Promise<ChannelLayer>

export interface LayerTestContext {
  /** A new layer, closed after the test. */
  make(options?: LayerOptions): Promise<ChannelLayer>
}

export function layerTestContext(makeLayer: MakeLayer): LayerTestContext {
  const open: ChannelLayer[] = []
  afterEach(async () => {
    const layers = open.splice(0)
    for (const layer of layers) {
      await layer.flush().catch(() => undefined)
      await layer.close()
    }
  })
  return {
    async make(options) {
      const layer = await makeLayer(options)
      open.push(layer)
      return layer
    },
  }
}

/** The message, or undefined if none arrived within `timeoutMs` (the receive is cancelled, not abandoned). */
export async function receiveWithin(
  layer: ChannelLayer,
  channel: string,
  timeoutMs: number,
): Promise<Message | undefined> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    return await layer.receive(channel, { signal })
  } catch (error) {
    if (signal.aborted && error === signal.reason) return undefined
    throw error
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `fn`, expects it to reject, and returns the error for assertions on class, code and message. */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await fn()
  } catch (error) {
    if (error instanceof Error) return error
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error })
  }
  throw new Error('expected a rejection, but the call resolved')
}
