import { vi } from 'vitest'

import { InMemoryChannelLayer, type InMemoryLayerOptions, type Logger, type Message } from '../../../src/index.js'

export const T0 = 1_700_000_000_000

export const FAILURE = Object.freeze({ error: 'boom', stack: 'Error: boom\n    at task (task.ts:1:1)' })

/** A layer on fake time whose task store is under test. */
export function makeLayer(options?: InMemoryLayerOptions): InMemoryChannelLayer {
  return new InMemoryChannelLayer(options)
}

/** The next queued message of `channel`, or undefined at once if none (a receive cancelled in the same tick). */
export async function takeNow(layer: InMemoryChannelLayer, channel: string): Promise<Message | undefined> {
  const controller = new AbortController()
  const next = layer.receive(channel, { signal: controller.signal })
  controller.abort()
  try {
    return await next
  } catch {
    return undefined
  }
}

export interface FakeLogger {
  readonly logger: Logger
  readonly warn: ReturnType<typeof vi.fn>
}

/** Just enough of a pino logger to see what the layer warns about. */
export function fakeLogger(): FakeLogger {
  const warn = vi.fn()
  const logger = { warn, info: vi.fn(), error: vi.fn(), debug: vi.fn() } as Record<string, unknown>
  logger.child = () => logger
  return { logger: logger as unknown as Logger, warn }
}
