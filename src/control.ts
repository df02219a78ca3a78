/**
 * Control flow for consumers: small classes thrown to steer the run loop, not coded errors (Channels' names).
 */

/** Thrown from any handler to end the consumer cleanly (its groups are left, its channel forgotten). */
export class StopConsumer extends Error {
  constructor() {
    super('consumer stopped')
    this.name = 'StopConsumer'
  }
}

/** Thrown from `connect()` to accept the WebSocket (the same as calling `accept()`). */
export class AcceptConnection extends Error {
  constructor() {
    super('connection accepted')
    this.name = 'AcceptConnection'
  }
}

/** Thrown from `connect()` to reject the WebSocket handshake (HTTP 403), the same as calling `close()`. */
export class DenyConnection extends Error {
  constructor() {
    super('connection denied')
    this.name = 'DenyConnection'
  }
}

/**
 * Thrown from a RetryingConsumer handler when retrying cannot help (bad input, a deleted record): the task goes
 * straight to dead letters. A class, not a code: it steers the retry logic.
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NonRetryableError'
  }
}
