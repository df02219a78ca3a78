import { randomUUID } from 'node:crypto'

import type { Message } from '../channel-layer.js'

/**
 * Task ids of the in-memory store: a message's string `idempotencyKey`, else an id tied to the stored message object
 * on its channel, so retries, releases and recoveries keep the id while two equal sends (or one group send reaching
 * two task channels) stay two tasks. Weakly held: a message no one stores any more takes its id with it.
 *
 * @example
 * ```ts
 * const ids = new MemoryTaskIds()
 * ids.of('jobs', { type: 'email.send', idempotencyKey: 'welcome-42' }) // 'welcome-42'
 * ids.of('jobs', message) === ids.of('jobs', message) // true; another channel gets another id
 * ```
 */
export class MemoryTaskIds {
  /** Message object -> channel -> id, for messages without an `idempotencyKey`. */
  private readonly derived = new WeakMap<Message, Map<string, string>>()

  of(channel: string, message: Message): string {
    const key = message.idempotencyKey
    if (typeof key === 'string' && key.length > 0) return key
    let ids = this.derived.get(message)
    if (ids === undefined) {
      ids = new Map()
      this.derived.set(message, ids)
    }
    let id = ids.get(channel)
    if (id === undefined) {
      id = randomUUID()
      ids.set(channel, id)
    }
    return id
  }
}
