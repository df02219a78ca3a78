import type { Message } from '../channel-layer.js'

/**
 * What the in-memory layer lends its task store: its own channel queues, so a plain `send` feeds a
 * RetryingConsumer. The store never touches capacity or expiry itself: the layer asks it which channels are task
 * channels, records their sends (`recordQueued`) and hands it the tasks that expired (`buryExpired`).
 */
export interface TaskQueues {
  /** Throws `LayerClosedError` once the layer is closed. */
  assertOpen(operation: string): void
  /** Drops expired messages and delivers due delayed ones, so a claim sees what a receive would. */
  refresh(): void
  /** The oldest queued message of `channel`, if any. */
  take(channel: string): Message | undefined
  /**
   * Puts a message the store holds back at the tail of `channel`, now (`delayMs` 0) or after `delayMs`: past
   * capacity, waiting anew (only `taskExpiryMs` can end its wait, into the dead letters), so a retried, released or
   * recovered task is never lost.
   */
  requeue(channel: string, message: Message, delayMs: number): void
  /** The layer's `groupSend`: task events go to a task's progress group (issue 17). */
  groupSend(group: string, message: Message): Promise<void>
  /** Whether a group has members or keeps history: task events go only where someone may hear them. */
  hasListeners(group: string): boolean
  /** The layer's `send` (a flow's next step). */
  send(channel: string, message: Message): Promise<void>
}
