import { afterEach, expect } from 'vitest'

import {
  positionOf,
  type ChannelLayer,
  type GroupHistory,
  type GroupHistoryOptions,
  type LayerOptions,
  type Message,
  type MessagePosition,
} from '../../../src/index.js'
import { receiveWithin } from '../context.js'

/** A layer with `groupHistory`: not on `ChannelLayer` until every backend has it. */
export type HistoryLayer = ChannelLayer & {
  groupHistory(group: string, options?: GroupHistoryOptions): Promise<GroupHistory>
}

/** Builds a fresh, empty layer of the backend under test (Redis: a unique key prefix per call). */
export type MakeHistoryLayer = (options?: LayerOptions) => HistoryLayer | Promise<HistoryLayer>

export interface HistoryExtras {
  /**
   * A second layer instance sharing `layer`'s storage (Redis: the same prefix), built with the same `options`, as
   * another process would be. The cross-instance cases are not declared without it (memory has no shared storage).
   */
  readonly makeSibling?: (layer: HistoryLayer, options: LayerOptions) => HistoryLayer | Promise<HistoryLayer>
}

export interface HistoryTestContext {
  /** A new layer, flushed and closed after the test. */
  make(options?: LayerOptions): Promise<HistoryLayer>
  /** A sibling of `layer` (see `HistoryExtras.makeSibling`), closed after the test. */
  sibling(layer: HistoryLayer, options: LayerOptions): Promise<HistoryLayer>
  readonly hasSibling: boolean
}

export function historyTestContext(makeLayer: MakeHistoryLayer, extras: HistoryExtras): HistoryTestContext {
  const open: HistoryLayer[] = []
  afterEach(async () => {
    // Siblings first (they share the first layer's storage, which its flush clears).
    for (const layer of open.splice(0).reverse()) {
      await layer.flush().catch(() => undefined)
      await layer.close()
    }
  })
  return {
    hasSibling: extras.makeSibling !== undefined,
    async make(options) {
      const layer = await makeLayer(options)
      open.push(layer)
      return layer
    },
    async sibling(layer, options) {
      if (extras.makeSibling === undefined)
        throw new Error('no makeSibling hook: the case should not have been declared')
      const sibling = await extras.makeSibling(layer, options)
      open.push(sibling)
      return sibling
    },
  }
}

/** History on `chat.*` (and `tiny.*`, size 5); every other group keeps none. */
export const HISTORY_OPTIONS: LayerOptions = Object.freeze({
  capacity: 1_000,
  history: { 'tiny.*': { size: 5, ttlMs: 60_000 }, 'chat.*': { size: 1_000, ttlMs: 60_000 } },
})

/** Receives exactly `count` messages (each within `timeoutMs`), then checks that nothing more arrives. */
export async function receiveExactly(
  layer: ChannelLayer,
  channel: string,
  count: number,
  timeoutMs = 2_000,
): Promise<Message[]> {
  const messages: Message[] = []
  for (let i = 0; i < count; i++) {
    const message = await receiveWithin(layer, channel, timeoutMs)
    if (message === undefined) throw new Error(`received ${i} of ${count} messages on ${channel}, then nothing`)
    messages.push(message)
  }
  expect(await receiveWithin(layer, channel, 100)).toBeUndefined()
  return messages
}

/** The `__position__` of each message (failing on a message without one). */
export function positions(messages: readonly Message[]): MessagePosition[] {
  return messages.map((message) => {
    const position = positionOf(message)
    if (position === undefined) throw new Error(`message without a position: ${JSON.stringify(message)}`)
    return position
  })
}

export const offsets = (messages: readonly Message[]): number[] => positions(messages).map((p) => p.offset)

/** `from`, `from + 1`, ... `to`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
}

/** Sends `count` messages `{ type: 'chat.message', n }` to `group`, one after another. */
export async function sendSeries(layer: ChannelLayer, group: string, count: number, first = 1): Promise<void> {
  for (let n = first; n < first + count; n++) await layer.groupSend(group, { type: 'chat.message', n })
}
