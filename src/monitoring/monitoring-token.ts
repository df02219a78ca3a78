/** The shared secret the dashboard and `/metrics` accept: one length rule, one constant-time comparison. */
import { createHash, timingSafeEqual } from 'node:crypto'

import { InvalidOptionError } from '../errors.js'

/** The shortest `token` the dashboard and the metrics endpoint accept. */
export const MIN_TOKEN_LENGTH = 16

/** Throws `InvalidOptionError` naming `token` unless it is absent or a string of `MIN_TOKEN_LENGTH`+ characters. */
export function assertMonitoringToken(token: unknown): asserts token is string | undefined {
  if (token === undefined || (typeof token === 'string' && token.length >= MIN_TOKEN_LENGTH)) return
  // The value is a secret: name its length, never echo it.
  const described = typeof token === 'string' ? `a string of ${token.length} characters` : typeof token
  throw new InvalidOptionError('token', `a string of at least ${MIN_TOKEN_LENGTH} characters`, described)
}

/**
 * A check of sent values against `expected`, comparing SHA-256 digests: equal lengths, so the comparison takes the
 * same time whatever was sent.
 *
 * @example
 * ```ts
 * const matches = secretMatcher(token)
 * if (!matches(bearer)) return reply.code(401).send()
 * ```
 */
export function secretMatcher(expected: string): (sent: string) => boolean {
  const expectedDigest = digest(expected)
  return (sent) => timingSafeEqual(digest(sent), expectedDigest)
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
