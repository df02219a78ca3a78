import type { ChannelLayer, Message } from '../layers/channel-layer.js'

export interface TimeoutOptions {
  /** How long to wait, in milliseconds. */
  readonly timeoutMs?: number
}

/**
 * Receives one message from `channel`, failing with a clear error after `timeoutMs` (default 1000). The receive is
 * cancelled through its AbortSignal, so a message arriving later stays queued.
 *
 * @example
 * ```ts
 * await layer.send('jobs', { type: 'job.run', id: 1 })
 * expect(await receiveFromLayer(layer, 'jobs')).toEqual({ type: 'job.run', id: 1 })
 * ```
 */
export async function receiveFromLayer(
  layer: ChannelLayer,
  channel: string,
  { timeoutMs = 1000 }: TimeoutOptions = {},
): Promise<Message> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    return await layer.receive(channel, { signal })
  } catch (error) {
    if (signal.aborted && error === signal.reason) {
      throw new Error(`No message arrived on "${channel}" within ${timeoutMs} ms`, { cause: error })
    }
    throw error
  }
}

/**
 * Resolves true when no message arrives on `channel` within `timeoutMs` (default 100). If one does arrive it is
 * consumed and the result is false.
 */
export async function receiveNothingFromLayer(
  layer: ChannelLayer,
  channel: string,
  { timeoutMs = 100 }: TimeoutOptions = {},
): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    await layer.receive(channel, { signal })
    return false
  } catch (error) {
    if (signal.aborted && error === signal.reason) return true
    throw error
  }
}
