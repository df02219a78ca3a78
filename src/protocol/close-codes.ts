// The one table of WebSocket close codes, shared by the server, the consumers and the browser client (which is why
// this file imports nothing: the client bundle takes what it uses from here and must carry nothing else). The
// constants are plain literals, so the bundler inlines them and drops the table when only they are used.

export const CLOSE_NORMAL = 1000
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_PROTOCOL_ERROR = 1002
export const CLOSE_UNSUPPORTED_DATA = 1003
export const CLOSE_NO_STATUS = 1005
export const CLOSE_ABNORMAL = 1006
export const CLOSE_INVALID_PAYLOAD = 1007
export const CLOSE_POLICY_VIOLATION = 1008
export const CLOSE_MESSAGE_TOO_BIG = 1009
export const CLOSE_MANDATORY_EXTENSION = 1010
export const CLOSE_INTERNAL_ERROR = 1011
export const CLOSE_SERVICE_RESTART = 1012
export const CLOSE_TRY_AGAIN_LATER = 1013
export const CLOSE_BAD_GATEWAY = 1014
export const CLOSE_TLS_HANDSHAKE = 1015
export const CLOSE_UNAUTHORIZED = 3000
export const CLOSE_FORBIDDEN = 3003

/** The first code registered for libraries and frameworks (3000-3999, IANA). */
export const CLOSE_LIBRARY_MIN = 3000
/** The first code left to applications (4000-4999, private use): 4000-4499 are fatal. */
export const CLOSE_APPLICATION_MIN = 4000
/** The first application code a client reconnects after (4500-4999: transient). */
export const CLOSE_APPLICATION_TRANSIENT_MIN = 4500
/** The last code an application may use. */
export const CLOSE_APPLICATION_MAX = 4999

/** One named close code. */
export interface CloseCodeEntry {
  /** The constant that holds it, e.g. `CLOSE_GOING_AWAY`. */
  readonly name: string
  readonly code: number
  /** What it means, and when Switchyard sends it. */
  readonly meaning: string
  /** Whether the client reconnects after it (`shouldReconnect`). */
  readonly reconnect: boolean
}

/** A range of codes; a named code inside it (3000, 3003) overrides it. */
export interface CloseCodeRange {
  readonly first: number
  readonly last: number
  readonly meaning: string
  readonly reconnect: boolean
}

/**
 * Every named close code (RFC 6455 §7.4, the IANA registry): what it means, when Switchyard sends it, and whether
 * the client reconnects. The rule for reconnecting: retry when the cause is outside the client (network, a server
 * restart or crash, overload); stop when the server ended the conversation on purpose or judged what the client
 * sent, because reconnecting would get the same answer. Codes the table does not name follow `CLOSE_CODE_RANGES`;
 * any other code is retried.
 */
export const CLOSE_CODE_TABLE = [
  {
    name: 'CLOSE_NORMAL',
    code: CLOSE_NORMAL,
    meaning: 'normal closure: the consumer closed the connection (`close()` without a code) or ended',
    reconnect: false,
  },
  {
    name: 'CLOSE_GOING_AWAY',
    code: CLOSE_GOING_AWAY,
    meaning: 'going away: the server is shutting down or restarting',
    reconnect: true,
  },
  { name: 'CLOSE_PROTOCOL_ERROR', code: CLOSE_PROTOCOL_ERROR, meaning: 'protocol error', reconnect: false },
  {
    name: 'CLOSE_UNSUPPORTED_DATA',
    code: CLOSE_UNSUPPORTED_DATA,
    meaning: 'unsupported data: a binary frame sent to a `JsonWebsocketConsumer`',
    reconnect: false,
  },
  {
    name: 'CLOSE_NO_STATUS',
    code: CLOSE_NO_STATUS,
    meaning: 'no status code in the close frame (reported, never sent)',
    reconnect: true,
  },
  {
    name: 'CLOSE_ABNORMAL',
    code: CLOSE_ABNORMAL,
    meaning: 'abnormal closure: network lost, server process gone, handshake refused (reported, never sent)',
    reconnect: true,
  },
  {
    name: 'CLOSE_INVALID_PAYLOAD',
    code: CLOSE_INVALID_PAYLOAD,
    meaning: 'invalid payload: malformed JSON, JSON that is not an object, or data the consumer cannot use',
    reconnect: false,
  },
  {
    name: 'CLOSE_POLICY_VIOLATION',
    code: CLOSE_POLICY_VIOLATION,
    meaning: 'policy violation: the client sent frames faster than the application received them',
    reconnect: false,
  },
  {
    name: 'CLOSE_MESSAGE_TOO_BIG',
    code: CLOSE_MESSAGE_TOO_BIG,
    meaning: 'message too big: a frame over `maxMessageBytes`',
    reconnect: false,
  },
  {
    name: 'CLOSE_MANDATORY_EXTENSION',
    code: CLOSE_MANDATORY_EXTENSION,
    meaning: 'mandatory extension: the server did not negotiate an extension the client requires',
    reconnect: false,
  },
  {
    name: 'CLOSE_INTERNAL_ERROR',
    code: CLOSE_INTERNAL_ERROR,
    meaning: 'internal error: the application crashed after accepting',
    reconnect: true,
  },
  { name: 'CLOSE_SERVICE_RESTART', code: CLOSE_SERVICE_RESTART, meaning: 'service restart', reconnect: true },
  {
    name: 'CLOSE_TRY_AGAIN_LATER',
    code: CLOSE_TRY_AGAIN_LATER,
    meaning: 'try again later: overloaded, or the client read too slowly (`maxOutboundBytes`)',
    reconnect: true,
  },
  { name: 'CLOSE_BAD_GATEWAY', code: CLOSE_BAD_GATEWAY, meaning: 'bad gateway', reconnect: true },
  {
    name: 'CLOSE_TLS_HANDSHAKE',
    code: CLOSE_TLS_HANDSHAKE,
    meaning: 'TLS handshake failed (reported, never sent)',
    reconnect: true,
  },
  { name: 'CLOSE_UNAUTHORIZED', code: CLOSE_UNAUTHORIZED, meaning: 'unauthorized (IANA registry)', reconnect: false },
  { name: 'CLOSE_FORBIDDEN', code: CLOSE_FORBIDDEN, meaning: 'forbidden (IANA registry)', reconnect: false },
] as const satisfies readonly CloseCodeEntry[]

/** The ranges codes not in `CLOSE_CODE_TABLE` fall into; outside them a code is unassigned, and retried. */
export const CLOSE_CODE_RANGES = [
  {
    first: CLOSE_LIBRARY_MIN,
    last: CLOSE_APPLICATION_MIN - 1,
    meaning: 'libraries and frameworks (IANA registry)',
    reconnect: true,
  },
  {
    first: CLOSE_APPLICATION_MIN,
    last: CLOSE_APPLICATION_TRANSIENT_MIN - 1,
    meaning: 'application, fatal: `close(4001)` for "bad token", "kicked"',
    reconnect: false,
  },
  {
    first: CLOSE_APPLICATION_TRANSIENT_MIN,
    last: CLOSE_APPLICATION_MAX,
    meaning: 'application, transient: `close(4500)` for "rebalancing, come back"',
    reconnect: true,
  },
] as const satisfies readonly CloseCodeRange[]

/** A named close code (one of `CLOSE_CODE_TABLE`): what a socket-facing error's `closeCode` holds. */
export type CloseCode = (typeof CLOSE_CODE_TABLE)[number]['code']

/**
 * Whether a close code is worth reconnecting after: the `reconnect` column of `CLOSE_CODE_TABLE` and
 * `CLOSE_CODE_RANGES` (a test keeps them in agreement). Retried: 1001, 1005, 1006, 1011-1015, 3000-3999 but 3000
 * and 3003, 4500-4999 and unassigned codes. Not retried: 1000, 1002, 1003, 1007-1010, 3000, 3003, 4000-4499.
 *
 * A server that refuses the handshake (HTTP 403) shows up in browsers as 1006, so it is retried with backoff;
 * to stop a client for good, accept and close with a code in 4000-4499. `close()` on the client never
 * reconnects, whatever the code.
 *
 * @example
 * ```ts
 * shouldReconnect(CLOSE_GOING_AWAY) // true: the server restarts
 * shouldReconnect(4001) // false: the application said no
 * ```
 */
export function shouldReconnect(code: number): boolean {
  // Written out rather than read from the table, so the browser bundle carries a dozen numbers, not the table.
  if (code >= CLOSE_APPLICATION_MIN && code <= CLOSE_APPLICATION_MAX) return code >= CLOSE_APPLICATION_TRANSIENT_MIN
  if (code === CLOSE_UNAUTHORIZED || code === CLOSE_FORBIDDEN) return false
  return ![
    CLOSE_NORMAL,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_UNSUPPORTED_DATA,
    CLOSE_INVALID_PAYLOAD,
    CLOSE_POLICY_VIOLATION,
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_MANDATORY_EXTENSION,
  ].includes(code)
}
