/**
 * A communicator waited `timeoutMs` for something the application never did. Its `name` is `'TimeoutError'`, the
 * platform's name for timeouts (asgiref raises `asyncio.TimeoutError` here). When the application was still running
 * it has been cancelled: its pending and later `receive()` calls reject with `ApplicationCancelledError`.
 *
 * It is a testing-only assertion failure, like `AssertionError`, so it carries no `SWY_` code.
 *
 * @example
 * ```ts
 * await expect(communicator.receiveFrom({ timeoutMs: 50 })).rejects.toThrow(CommunicatorTimeoutError)
 * ```
 */
export class CommunicatorTimeoutError extends Error {
  constructor(
    /** What was awaited, e.g. `websocket.send` or `the application to finish`. */
    readonly awaited: string,
    readonly timeoutMs: number,
    /** What happened to the application: `it was cancelled`, `it had already returned`. */
    outcome: string,
    options?: ErrorOptions,
  ) {
    super(`Timed out after ${timeoutMs} ms waiting for ${awaited}; ${outcome}`, options)
    this.name = 'TimeoutError'
  }
}
