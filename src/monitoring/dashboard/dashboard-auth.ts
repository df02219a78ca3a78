import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

import type { FastifyRequest } from 'fastify'

import type { ResolvedDashboardOptions } from './dashboard-options.js'

/** The cookie `?token=` sets, so the page's own fetches carry the credential without putting it in scripts. */
export const SESSION_COOKIE = 'switchyard_dashboard'

/** How a request got in, or why it did not. */
export type AuthOutcome =
  | { readonly ok: true; readonly via: 'hook' | 'bearer' | 'cookie' | 'query' | 'loopback' }
  | { readonly ok: false; readonly reason: string }

/**
 * Decides who may see the dashboard, in this order: the `authorize` hook when given; else the token (bearer header,
 * session cookie, or `?token=`); else loopback clients only. The loopback default keeps a dashboard registered
 * without thought closed to the network; behind a reverse proxy on the same host every client looks local, so set
 * a token or a hook there.
 *
 * @example
 * ```ts
 * const authenticate = dashboardAuthenticator(options)
 * const outcome = await authenticate(request)
 * if (!outcome.ok) return reply.code(401).send({ error: 'unauthorized', message: outcome.reason })
 * ```
 */
export function dashboardAuthenticator(
  options: Pick<ResolvedDashboardOptions, 'token' | 'authorize'>,
): (request: FastifyRequest) => Promise<AuthOutcome> {
  const { token, authorize } = options
  if (authorize !== undefined) {
    return async (request) =>
      (await authorize(request)) ? { ok: true, via: 'hook' } : { ok: false, reason: 'refused by the authorize hook' }
  }
  if (token !== undefined) {
    const tokenDigest = digest(token)
    const cookieValue = sessionCookieValue(token)
    const cookieDigest = digest(cookieValue)
    return async (request) => {
      const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1]
      if (bearer !== undefined && timingSafeEqual(digest(bearer), tokenDigest)) return { ok: true, via: 'bearer' }
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE)
      if (cookie !== undefined && timingSafeEqual(digest(cookie), cookieDigest)) return { ok: true, via: 'cookie' }
      const query = queryToken(request)
      if (query !== undefined && timingSafeEqual(digest(query), tokenDigest)) return { ok: true, via: 'query' }
      return { ok: false, reason: 'a valid token is required (Authorization: Bearer <token>, or ?token=<token>)' }
    }
  }
  return async (request) =>
    isLoopback(request.socket.remoteAddress)
      ? { ok: true, via: 'loopback' }
      : { ok: false, reason: 'without a token or an authorize hook the dashboard answers loopback clients only' }
}

/** The session cookie's value: derived from the token, so the cookie jar never holds the token itself. */
export function sessionCookieValue(token: string): string {
  return createHmac('sha256', token).update('switchyard dashboard session').digest('base64url')
}

/** The `Set-Cookie` header for a session under `path`. */
export function sessionCookieHeader(token: string, path: string, secure: boolean): string {
  const attributes = [`Path=${path}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])]
  return `${SESSION_COOKIE}=${sessionCookieValue(token)}; ${attributes.join('; ')}`
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address
  return v4.startsWith('127.') || address === '::1'
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

// Equal-length digests, so comparing them takes the same time whatever was sent.
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
