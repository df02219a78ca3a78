import type { OutputEvent } from '../application.js'

/**
 * What a server tracks about one connection to reject events that break the protocol. The testing communicators
 * and the real server share these classes, so an application that passes its tests meets the same rules live.
 */
export interface ProtocolState {
  /** True once nothing more may be sent: the application closed or completed the response, or the client left. */
  readonly closed: boolean
  /**
   * Checks an event the application wants to send and, when it is allowed, records its effect (accepted, closed,
   * response started...). Throws a coded error (`InvalidEventError`, `NotAcceptedError`, `ConnectionClosedError`)
   * and records nothing when it is not.
   */
  check(event: OutputEvent): void
  /** Records that the client went away (the application received `websocket.disconnect` / `http.disconnect`). */
  markDisconnected(): void
}
