/**
 * Tamper-evident cookie values: `value.signature`, the signature an HMAC-SHA256 of the value in base64url. The
 * value itself is readable by the client; sign ids, never secrets.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

import { InvalidOptionError } from '../errors.js'

/** Shorter secrets are refused: an HMAC key is only as strong as its entropy. */
export const MIN_SECRET_LENGTH = 32

/**
 * Signs `value` with `secret` (at least `MIN_SECRET_LENGTH` characters, e.g.
 * `crypto.randomBytes(32).toString('base64url')`). The result is cookie-safe apart from what `value` contains;
 * `setCookie` percent-encodes it anyway.
 *
 * The signature has no expiry of its own: bound a cookie's life with `maxAgeS`, and retire stolen cookies by
 * rotating the secret. Use a secret per purpose, since any value signed with it verifies for any cookie name.
 *
 * @example
 * ```ts
 * const headers = setCookie([], 'uid', signCookieValue(String(user.id), secrets[0]!), { httpOnly: true })
 * ```
 */
export function signCookieValue(value: string, secret: string): string {
  checkSecret(secret, 'secret')
  const given: unknown = value
  if (typeof given !== 'string') throw new InvalidOptionError('value', 'a string', given)
  return `${value}.${signature(value, secret)}`
}

/**
 * The value inside `signed` if its signature verifies with any of `secrets`, else `null` (missing or tampered
 * signature). List the current secret first and older ones after it: `signCookieValue` signs with the first, and
 * cookies signed with a retired secret keep working until it is removed from the list.
 *
 * @example
 * ```ts
 * unsignCookieValue(cookies.uid ?? '', [process.env.SECRET!, process.env.PREVIOUS_SECRET!]) // '42' or null
 * ```
 */
export function unsignCookieValue(signed: string, secrets: readonly string[]): string | null {
  checkSecrets(secrets, 'secrets')
  const given: unknown = signed
  if (typeof given !== 'string') return null
  const dot = given.lastIndexOf('.')
  if (dot === -1) return null
  const value = given.slice(0, dot)
  const presented = Buffer.from(given.slice(dot + 1))
  let valid = false
  for (const secret of secrets) {
    // Compare the encoded form, not decoded bytes: Node's base64url decoder skips stray characters, which would
    // accept many spellings of one signature.
    const expected = Buffer.from(signature(value, secret))
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) valid = true
  }
  return valid ? value : null
}

/** Throws `InvalidOptionError` unless `secrets` is a non-empty array of long enough strings. */
export function checkSecrets(secrets: readonly string[], option: string): void {
  const given: unknown = secrets
  if (!Array.isArray(given) || given.length === 0) {
    throw new InvalidOptionError(option, 'a non-empty array of secrets, the current one first', given)
  }
  for (const [index, secret] of (given as readonly unknown[]).entries()) checkSecret(secret, `${option}[${index}]`)
}

// The messages name the length and type only: a secret must never reach an error message or a log.
function checkSecret(secret: unknown, option: string): void {
  if (typeof secret !== 'string') {
    throw new InvalidOptionError(option, `a string of at least ${MIN_SECRET_LENGTH} characters`, typeof secret)
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new InvalidOptionError(`${option}.length`, `at least ${MIN_SECRET_LENGTH}`, secret.length)
  }
}

function signature(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url')
}
