import { createHmac } from 'node:crypto'

import type { FastifyRequest } from 'fastify'

import {
  isLoopbackAddress,
  isLoopbackHost,
  LOOPBACK_HOST_REFUSAL,
  MISDIRECTED_REQUEST,
  requestHost,
} from '../../server/loopback-host.js'
import { secretMatcher } from '../monitoring-token.js'
import type { ResolvedDashboardOptions } from './dashboard-options.js'

/** The cookie `?token=` sets, so the page's own fetches carry the credential without putting it in scripts. */
export const SESSION_COOKIE = 'switchyard_dashboard'

/** How a request got in, or why it did not: 401 for a missing credential, 421 for a loopback client's foreign `Host`. */
export type AuthOutcome =
  | { readonly ok: true; readonly via: 'hook' | 'bearer' | 'cookie' | 'query' | 'loopback' }
  | { readonly ok: false; readonly status: 401 | typeof MISDIRECTED_REQUEST; readonly reason: string }

/** A session issued this far in the future still counts: dashboards behind one balancer have clocks slightly apart. */
const CLOCK_SKEW_MS = 60_000

/**
 * Decides who may see the dashboard, in this order: the `authorize` hook when given; else the token (bearer header,
 * session cookie younger than `sessionTtlMs`, or `?token=`); else loopback clients only, and only when they address
 * the server by a loopback name (`isLoopbackHost`), so a DNS-rebound page gets 421. The loopback default keeps a
 * dashboard registered without thought closed to the network; behind a reverse proxy on the same host that keeps
 * `Host` local every client looks local, so set a token or a hook there.
 *
 * @example
 * ```ts
 * const authenticate = dashboardAuthenticator(options)
 * const outcome = await authenticate(request)
 * if (!outcome.ok) return reply.code(outcome.status).send({ error: 'unauthorized', message: outcome.reason })
 * ```
 */
export function dashboardAuthenticator(
  options: Pick<ResolvedDashboardOptions, 'token' | 'authorize' | 'sessionTtlMs'>,
): (request: FastifyRequest) => Promise<AuthOutcome> {
  const { token, authorize, sessionTtlMs } = options
  if (authorize !== undefined) {
    return async (request) =>
      (await authorize(request))
        ? { ok: true, via: 'hook' }
        : { ok: false, status: 401, reason: 'refused by the authorize hook' }
  }
  if (token !== undefined) {
    const matchesToken = secretMatcher(token)
    return async (request) => {
      const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1]
      if (bearer !== undefined && matchesToken(bearer)) return { ok: true, via: 'bearer' }
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE)
      const session = cookie === undefined ? undefined : sessionState(token, cookie, sessionTtlMs, Date.now())
      if (session === 'valid') return { ok: true, via: 'cookie' }
      const query = queryToken(request)
      if (query !== undefined && matchesToken(query)) return { ok: true, via: 'query' }
      if (session === 'expired') {
        return {
          ok: false,
          status: 401,
          reason: 'the dashboard session expired: open the page with ?token=<token> again',
        }
      }
      return {
        ok: false,
        status: 401,
        reason: 'a valid token is required (Authorization: Bearer <token>, or ?token=<token>)',
      }
    }
  }
  return async (request) => {
    if (!isLoopbackAddress(request.socket.remoteAddress)) {
      return {
        ok: false,
        status: 401,
        reason: 'without a token or an authorize hook the dashboard answers loopback clients only',
      }
    }
    if (!isLoopbackHost(requestHost(request.headers))) {
      return { ok: false, status: MISDIRECTED_REQUEST, reason: LOOPBACK_HOST_REFUSAL }
    }
    return { ok: true, via: 'loopback' }
  }
}

/**
 * The session cookie's value: when it was issued (ms since the epoch) and a MAC of that time under the token, so the
 * cookie jar never holds the token itself and the server can tell its age without keeping sessions.
 */
export function sessionCookieValue(token: string, issuedAtMs: number): string {
  return `${issuedAtMs}.${sessionMac(token, issuedAtMs)}`
}

/** The `Set-Cookie` header for a session under `path`, issued now: it lasts `ttlMs` (`Max-Age` in whole seconds). */
export function sessionCookieHeader(
  token: string,
  session: { readonly path: string; readonly secure: boolean; readonly ttlMs: number; readonly issuedAtMs: number },
): string {
  const attributes = [
    `Path=${session.path}`,
    `Max-Age=${Math.floor(session.ttlMs / 1000)}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(session.secure ? ['Secure'] : []),
  ]
  return `${SESSION_COOKIE}=${sessionCookieValue(token, session.issuedAtMs)}; ${attributes.join('; ')}`
}

/**
 * Whether a session cookie is one this token issued, and if so whether it is still young enough. `Max-Age` asks the
 * browser to forget the cookie; this check is what holds when a copied cookie is replayed later.
 */
function sessionState(token: string, cookie: string, ttlMs: number, nowMs: number): 'valid' | 'expired' | 'invalid' {
  const match = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(cookie)
  if (match?.[1] === undefined || match[2] === undefined) return 'invalid'
  const issuedAtMs = Number(match[1])
  if (!secretMatcher(sessionMac(token, issuedAtMs))(match[2])) return 'invalid'
  const ageMs = nowMs - issuedAtMs
  return ageMs < ttlMs && ageMs > -CLOCK_SKEW_MS ? 'valid' : 'expired'
}

function sessionMac(token: string, issuedAtMs: number): string {
  return createHmac('sha256', token).update(`switchyard dashboard session ${issuedAtMs}`).digest('base64url')
}

export function queryToken(request: FastifyRequest): string | undefined {
  const query = request.query as Readonly<Record<string, unknown>> | undefined
  const value = query?.token
  return typeof value === 'string' && value !== '' ? value : undefined
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const separator = part.indexOf('=')
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim()
  }
  return undefined
}
