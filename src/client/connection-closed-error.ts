/**
 * `send` on a connection whose state is `closed`: `close()` was called, or the server ended it for good.
 *
 * @example
 * ```ts
 * try {
 *   conn.send({ type: 'chat.message', text })
 * } catch (error) {
 *   if (error instanceof ConnectionClosedError) conn = connect('/ws/chat/lobby/') // start over
 *   else throw error
 * }
 * ```
 */
export class ConnectionClosedError extends Error {
  // The server's error for sending on a closed connection uses this code too: same condition, same code.
  static readonly code = 'SWY_CONNECTION_CLOSED'
  readonly code = ConnectionClosedError.code
  constructor(url: string) {
    super(`Cannot send to ${url}: the connection is closed for good; call connect() again for a new one`)
    this.name = 'ConnectionClosedError'
  }
}
