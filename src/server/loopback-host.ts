/**
 * DNS rebinding protection for endpoints that trust a client for being on this machine (the dashboard and
 * `/metrics` without a token, the showcase's APIs). A page on `evil.example` whose name is rebound to 127.0.0.1
 * reaches a loopback server from the victim's own browser: the socket's address is loopback, and the page's
 * `Origin` matches the `Host` it sends, so neither proves anything. What it cannot change is the name in `Host`:
 * the browser sends the page's own host name, never `localhost`. So a server that admits loopback clients must also
 * insist on a loopback `Host`.
 *
 * Issue 14, item 1. See https://en.wikipedia.org/wiki/DNS_rebinding.
 */
import type { IncomingHttpHeaders } from 'node:http'

/** The status for a request whose `Host` names someone else (RFC 9110, 15.5.20: 421 Misdirected Request). */
export const MISDIRECTED_REQUEST = 421

/** What to tell a client refused by `isLoopbackHost`; names no header value (they are the attacker's). */
export const LOOPBACK_HOST_REFUSAL =
  'without a token this endpoint answers requests addressed to localhost, 127.0.0.1 (127.0.0.0/8) or [::1] only ' +
  '(DNS rebinding protection): open it by one of those names, or configure a token to serve it under another'

const MAX_PORT = 65_535
// One octet of a dotted quad as browsers write it: 0-255, no leading zeros (no octal, no padding).
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'
const LOOPBACK_NAME = new RegExp(`^(?:localhost|127(?:\\.${OCTET}){3}|\\[::1\\])$`)
const PORT = /^[1-9]\d{0,4}$/

/**
 * Whether a `Host` header names this machine by a loopback name: `localhost`, a dotted quad in 127.0.0.0/8 or
 * `[::1]`, each with or without a port, in any letter case. Strict on purpose, for only a browser's own forms count:
 * browsers normalise the URL before they send `Host`, so `127.1`, `0x7f.0.0.1`, `2130706433` and
 * `[0:0:0:0:0:0:0:1]` always reach a server as `127.0.0.1` or `[::1]`; and no client needs `localhost.` (trailing
 * dot), a `*.localhost` name, `[::ffff:127.0.0.1]` or an empty port. A missing `Host` (HTTP/1.0) is refused too:
 * nothing then says which name the client meant.
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1:8000') // true
 * isLoopbackHost('[::1]:8000') // true
 * isLoopbackHost('evil.example:8000') // false: a rebound name
 * ```
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false
  const lower = host.toLowerCase()
  // The port follows the last colon after an IPv6 literal's closing bracket, or the only colon of a name.
  const bracket = lower.lastIndexOf(']')
  const colon = lower.indexOf(':', bracket + 1)
  const name = colon === -1 ? lower : lower.slice(0, colon)
  const port = colon === -1 ? undefined : lower.slice(colon + 1)
  if (port !== undefined && !(PORT.test(port) && Number(port) <= MAX_PORT)) return false
  return LOOPBACK_NAME.test(name)
}

/**
 * The `Host` a request arrived with (HTTP/2's `:authority`), as the client sent it. Never fastify's `request.host`:
 * under `trustProxy` that reads `X-Forwarded-Host`, which a rebound page may set on its own same-origin requests.
 */
export function requestHost(headers: IncomingHttpHeaders): string | undefined {
  const host = headers.host ?? headers[':authority']
  return typeof host === 'string' ? host : undefined
}

/**
 * Whether a socket's peer address is this machine: 127.0.0.0/8 (also IPv4-mapped) or ::1. Read it from
 * `request.socket.remoteAddress`, never from forwarded headers a client can set.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address
  return v4.startsWith('127.') || address === '::1'
}
