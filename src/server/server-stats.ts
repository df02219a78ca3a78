/** Counters since the server started, plus what is live right now. */
export interface ServerStats {
  /** Live WebSocket connections (handshaking or open) whose application has not finished. */
  readonly connections: number
  /** Live HTTP requests whose application has not finished. */
  readonly httpRequests: number
  /** Handshakes the application accepted. */
  readonly accepted: number
  /** Handshakes refused: closed by the application (403), no route (404), a crash (500) or a timeout. */
  readonly rejected: number
  /** Handshakes the application answered neither way within `handshakeTimeoutMs` (also counted in `rejected`). */
  readonly handshakeTimeouts: number
  /** Sockets closed with 1013 because the client did not read and its outbound buffer passed `maxOutboundBytes`. */
  readonly closedSlow: number
  /** Outbound frames dropped for those slow clients. */
  readonly droppedOutbound: number
  /** Sockets closed with 1008 because frames arrived faster than the application received them. */
  readonly inboundOverflows: number
  /** Sockets terminated after `pingTimeoutMs` of silence. */
  readonly pingTimeouts: number
  /** Applications that threw (HTTP 500, close 1011, or after the connection ended). */
  readonly applicationErrors: number
  /** Applications cancelled for not finishing within `applicationCloseTimeoutMs` or `handshakeTimeoutMs`. */
  readonly applicationsCancelled: number
}

export type ServerCounterName = Exclude<keyof ServerStats, 'connections' | 'httpRequests'>

/** Mutable counters behind `stats()`. */
export class ServerCounters {
  private readonly values: Record<ServerCounterName, number> = {
    accepted: 0,
    rejected: 0,
    handshakeTimeouts: 0,
    closedSlow: 0,
    droppedOutbound: 0,
    inboundOverflows: 0,
    pingTimeouts: 0,
    applicationErrors: 0,
    applicationsCancelled: 0,
  }

  increment(name: ServerCounterName, by = 1): void {
    this.values[name] += by
  }

  snapshot(live: { connections: number; httpRequests: number }): ServerStats {
    return Object.freeze({ ...live, ...this.values })
  }
}
