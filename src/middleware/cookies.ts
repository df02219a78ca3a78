/** Cookies: `CookieMiddleware` reads them into `scope.cookies`; `setCookie` / `deleteCookie` write `set-cookie`. */
import { getHeader, type Application, type Headers } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import { assertApplication, defineMiddleware, withScope } from './base-middleware.js'

/** Attributes of a `set-cookie` header. */
export interface CookieOptions {
  /**
   * Lifetime in seconds (`Max-Age`); 0 or less deletes the cookie.
   * @defaultValue none: a session cookie, unless `expires` is given
   */
  readonly maxAgeS?: number
  /**
   * Absolute expiry (`Expires`).
   * @defaultValue none
   */
  readonly expires?: Date
  /**
   * `Path`.
   * @defaultValue `'/'`
   */
  readonly path?: string
  /**
   * `Domain`; leave it out to limit the cookie to the exact host that set it.
   * @defaultValue none
   */
  readonly domain?: string
  /**
   * `Secure`: HTTPS only. Required by browsers for `sameSite: 'None'` and `__Secure-` / `__Host-` names.
   * @defaultValue `false`
   */
  readonly secure?: boolean
  /**
   * `HttpOnly`: hidden from page scripts.
   * @defaultValue `false`
   */
  readonly httpOnly?: boolean
  /**
   * `SameSite`.
   * @defaultValue `'Lax'`
   */
  readonly sameSite?: 'Strict' | 'Lax' | 'None'
}

const SAME_SITE: readonly string[] = ['Strict', 'Lax', 'None']
// RFC 6265 cookie-name: an RFC 7230 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Parses a `Cookie` header into a null-prototype object (so a cookie called `__proto__` or `constructor` is just
 * a key). Pairs without `=` are skipped, surrounding double quotes removed, and percent-encoding decoded where it
 * is valid (kept as sent where it is not). When a name repeats, the first value wins: browsers send the cookie
 * with the most specific path first.
 *
 * @example
 * ```ts
 * parseCookieHeader('theme=dark; sessionid=abc%20123') // { theme: 'dark', sessionid: 'abc 123' }
 * ```
 */
export function parseCookieHeader(header: string | undefined): Readonly<Record<string, string>> {
  const cookies = Object.create(null) as Record<string, string>
  for (const pair of header?.split(';') ?? []) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    const name = pair.slice(0, eq).trim()
    if (name === '' || Object.hasOwn(cookies, name)) continue
    let value = pair.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    cookies[name] = decodeCookieValue(value)
  }
  return Object.freeze(cookies)
}

function decodeCookieValue(value: string): string {
  if (!value.includes('%')) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * Fills `scope.cookies` from the first `cookie` request header (`{}` when there is none) for `websocket` and
 * `http` scopes; `channel` scopes pass through unchanged.
 *
 * @example
 * ```ts
 * const app = CookieMiddleware(URLRouter(routes))
 * // in a consumer: this.scope.cookies?.theme
 * ```
 */
export function CookieMiddleware(app: Application): Application {
  assertApplication(app, 'app')
  return defineMiddleware(async (scope, receive, send, inner) => {
    if (scope.type === 'channel') {
      await inner(scope, receive, send)
      return
    }
    await inner(withScope(scope, { cookies: parseCookieHeader(getHeader(scope, 'cookie')) }), receive, send)
  })(app)
}

/**
 * Returns a copy of `headers` with a `set-cookie` header added; the value is percent-encoded (and
 * `parseCookieHeader` decodes it). Every option is validated: a bad one throws `InvalidOptionError`.
 *
 * @example
 * ```ts
 * await send({
 *   type: 'http.response.start',
 *   status: 200,
 *   headers: setCookie([['content-type', 'text/plain']], 'theme', 'dark', { maxAgeS: 86_400, httpOnly: true }),
 * })
 * // set-cookie: theme=dark; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax
 * ```
 */
export function setCookie(headers: Headers, name: string, value: string, options: CookieOptions = {}): Headers {
  const { maxAgeS, expires, path = '/', domain, secure = false, httpOnly = false, sameSite = 'Lax' } = options
  checkCookie(name, value, options)
  const parts = [`${name}=${encodeURIComponent(value)}`]
  if (maxAgeS !== undefined) parts.push(`Max-Age=${maxAgeS}`)
  if (expires !== undefined) parts.push(`Expires=${expires.toUTCString()}`)
  parts.push(`Path=${path}`)
  if (domain !== undefined) parts.push(`Domain=${domain}`)
  if (secure) parts.push('Secure')
  if (httpOnly) parts.push('HttpOnly')
  parts.push(`SameSite=${sameSite}`)
  return [...headers, ['set-cookie', parts.join('; ')]]
}

/**
 * Returns a copy of `headers` with a `set-cookie` that deletes the cookie (empty value, `Max-Age=0`, `Expires` in
 * 1970). `path` and `domain` must be the ones the cookie was set with. `__Secure-` and `__Host-` cookies get
 * `Secure`, as browsers require it to delete them.
 *
 * @example
 * ```ts
 * headers = deleteCookie(headers, 'sessionid')
 * ```
 */
export function deleteCookie(
  headers: Headers,
  name: string,
  options: Pick<CookieOptions, 'path' | 'domain' | 'secure' | 'sameSite'> = {},
): Headers {
  const secure = options.secure ?? (name.startsWith('__Secure-') || name.startsWith('__Host-'))
  return setCookie(headers, name, '', { ...options, secure, maxAgeS: 0, expires: new Date(0) })
}

function checkCookie(name: string, value: string, options: CookieOptions): void {
  const { maxAgeS, expires, path = '/', domain, secure = false, httpOnly = false, sameSite = 'Lax' } = options
  const unknownName: unknown = name
  if (typeof unknownName !== 'string' || !COOKIE_NAME.test(unknownName)) {
    throw new InvalidOptionError('name', 'a cookie name made of RFC 6265 token characters', unknownName)
  }
  const unknownValue: unknown = value
  if (typeof unknownValue !== 'string') throw new InvalidOptionError('value', 'a string', unknownValue)
  if (maxAgeS !== undefined && !Number.isSafeInteger(maxAgeS)) {
    throw new InvalidOptionError('maxAgeS', 'an integer number of seconds', maxAgeS)
  }
  const unknownExpires: unknown = expires
  if (unknownExpires !== undefined && !(unknownExpires instanceof Date && Number.isFinite(unknownExpires.getTime()))) {
    throw new InvalidOptionError('expires', 'a valid Date', unknownExpires)
  }
  checkAttribute('path', path)
  if (domain !== undefined) checkAttribute('domain', domain)
  checkBoolean('secure', secure)
  checkBoolean('httpOnly', httpOnly)
  if (!SAME_SITE.includes(sameSite)) {
    throw new InvalidOptionError('sameSite', 'one of "Strict", "Lax", "None"', sameSite)
  }
  // Browsers silently drop these cookies otherwise; better to fail where the mistake is.
  if (sameSite === 'None' && !secure) {
    throw new InvalidOptionError('secure', 'true with sameSite "None" (browsers drop such cookies otherwise)', secure)
  }
  if ((name.startsWith('__Secure-') || name.startsWith('__Host-')) && !secure) {
    throw new InvalidOptionError('secure', `true for a cookie named ${name.split('-')[0]}-...`, secure)
  }
  if (name.startsWith('__Host-') && (domain !== undefined || path !== '/')) {
    throw new InvalidOptionError('domain', 'absent, with path "/", for a __Host- cookie', domain ?? path)
  }
}

function checkAttribute(option: string, value: unknown): void {
  // Attribute values end at `;`, and control characters would break the header.
  if (typeof value !== 'string' || value === '' || /[;\p{Cc}]/u.test(value)) {
    throw new InvalidOptionError(option, 'a non-empty string without ";" or control characters', value)
  }
}

function checkBoolean(option: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new InvalidOptionError(option, 'a boolean', value)
}
