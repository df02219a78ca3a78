/**
 * Whether a close code is worth reconnecting after. The rule: retry when the cause is outside this client
 * (network, a server restart or crash, overload); stop when the server ended the conversation on purpose or
 * judged what this client sent, because reconnecting would get the same answer.
 *
 * | code      | meaning (RFC 6455 §7.4, IANA registry)                             | reconnect |
 * | --------- | ------------------------------------------------------------------ | --------- |
 * | 1000      | normal closure: the server's consumer ended the connection         | no        |
 * | 1001      | going away: the server is shutting down or restarting              | yes       |
 * | 1002      | protocol error                                                     | no        |
 * | 1003      | unsupported data                                                   | no        |
 * | 1005      | no status code in the close frame                                  | yes       |
 * | 1006      | abnormal: network lost, server process gone, handshake refused     | yes       |
 * | 1007      | invalid payload data                                               | no        |
 * | 1008      | policy violation (e.g. the client flooded the server)              | no        |
 * | 1009      | message too big                                                    | no        |
 * | 1010      | mandatory extension missing                                        | no        |
 * | 1011      | internal error: a server handler crashed                           | yes       |
 * | 1012      | service restart                                                    | yes       |
 * | 1013      | try again later: overloaded, or this client read too slowly        | yes       |
 * | 1014      | bad gateway                                                        | yes       |
 * | 1015      | TLS handshake failed                                               | yes       |
 * | 3000-3999 | libraries and frameworks: 3000 Unauthorized and 3003 Forbidden     | no        |
 * |           | ... every other code in the range                                  | yes       |
 * | 4000-4499 | application, fatal: `close(4001)` for "bad token", "kicked"        | no        |
 * | 4500-4999 | application, transient: `close(4500)` for "rebalancing, come back" | yes       |
 * | other     | unassigned                                                         | yes       |
 *
 * A server that refuses the handshake (HTTP 403) shows up in browsers as 1006, so it is retried with backoff;
 * to stop a client for good, accept and close with a code in 4000-4499. `close()` on the client never
 * reconnects, whatever the code.
 */
export function shouldReconnect(code: number): boolean {
  if (code >= 4000 && code <= 4999) return code >= 4500
  if (code === 3000 || code === 3003) return false
  return ![1000, 1002, 1003, 1007, 1008, 1009, 1010].includes(code)
}
