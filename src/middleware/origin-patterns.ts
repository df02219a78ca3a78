/**
 * Origin matching with Channels' rules (`channels.security.websocket.OriginValidator`), compiled once:
 *
 * - `*` allows every origin, and requests without an Origin header.
 * - A pattern without a scheme (`example.com`, `.example.com`) compares hosts only; a leading `.` means the domain
 *   and all its subdomains (Django's `is_same_domain`).
 * - A pattern with a scheme (`https://example.com:8443`) must match scheme, port (80 for http/ws and 443 for
 *   https/wss when not written) and domain (the leading-`.` rule applies here too).
 * - An Origin that does not parse as a URL with a host (`null`, `something-invalid`, empty) matches nothing but `*`.
 *
 * Stricter than Channels, to catch configuration mistakes when the validator is built: `*.example.com` (which in
 * Channels silently never matches) and a port without a scheme (`localhost:8000`, which Python parses as scheme
 * `localhost`) are refused with advice.
 */
import { InvalidOptionError } from '../errors.js'

/** An Origin header, parsed. */
export interface ParsedOrigin {
  /** Lower case, without `:`. */
  readonly scheme: string
  /** Lower case, punycode, IPv6 in brackets (WHATWG URL's `hostname`). */
  readonly hostname: string
  /** The explicit port, else the scheme's default, else `null`. */
  readonly port: number | null
}

/** True when the parsed origin (`null`: absent or unparseable) is allowed. */
export type OriginCheck = (origin: ParsedOrigin | null, present: boolean) => boolean

type CompiledPattern =
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'url'; readonly scheme: string; readonly host: string; readonly port: number | null }

const DEFAULT_PORTS: ReadonlyMap<string, number> = new Map([
  ['http', 80],
  ['ws', 80],
  ['https', 443],
  ['wss', 443],
])
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i
// A host, an optional leading dot, or an IPv6 literal; no port, path, userinfo or wildcard.
const HOST_PATTERN = /^\.?(?:\[[0-9a-f:.]+\]|[^\s/?#@:[\]\\*]+)$/i
const PATTERN_ADVICE =
  'an origin pattern: "*", a host ("example.com"), a domain and its subdomains (".example.com"), or a ' +
  'scheme, host and optional port ("https://example.com:8443")'

/** Parses an Origin header value the way browsers write it (`https://example.com[:port]`); `null` if it has no host. */
export function parseOrigin(value: string): ParsedOrigin | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return null
  }
  if (url.hostname === '') return null
  const scheme = url.protocol.slice(0, -1)
  return { scheme, hostname: url.hostname, port: effectivePort(scheme, url.port) }
}

/** Django's `is_same_domain`: `.example.com` matches `example.com` and every subdomain; others match exactly. */
export function isSameDomain(host: string, pattern: string): boolean {
  if (pattern === '') return false
  if (pattern.startsWith('.')) return host.endsWith(pattern) || host === pattern.slice(1)
  return host === pattern
}

/**
 * Validates and compiles `patterns` (throwing `InvalidOptionError` naming `option[index]` for a bad one) into a
 * check. No Origin header is allowed only when the list contains `*`, as in Channels.
 */
export function compileOriginPatterns(patterns: readonly string[], option: string): OriginCheck {
  const list: unknown = patterns
  if (!Array.isArray(list)) throw new InvalidOptionError(option, 'an array of origin patterns', list)
  const entries = list as readonly unknown[]
  // Compiled even next to `*`, so a mistake in the list is reported while `*` is there during development.
  const compiled = entries.flatMap((pattern, index) =>
    pattern === '*' ? [] : [compilePattern(pattern, `${option}[${index}]`)],
  )
  if (entries.includes('*')) return () => true
  return (origin, present) => present && origin !== null && compiled.some((pattern) => matches(origin, pattern))
}

function matches(origin: ParsedOrigin, pattern: CompiledPattern): boolean {
  if (pattern.kind === 'host') return isSameDomain(origin.hostname, pattern.host)
  return origin.scheme === pattern.scheme && origin.port === pattern.port && isSameDomain(origin.hostname, pattern.host)
}

function compilePattern(pattern: unknown, option: string): CompiledPattern {
  if (typeof pattern !== 'string') throw new InvalidOptionError(option, PATTERN_ADVICE, pattern)
  if (pattern.includes('*')) {
    throw new InvalidOptionError(
      option,
      'without a wildcard: write ".example.com" for a domain and all its subdomains, or "*" alone for any origin',
      pattern,
    )
  }
  if (SCHEME.test(pattern)) {
    const parsed = parseOrigin(pattern)
    if (parsed === null) throw new InvalidOptionError(option, PATTERN_ADVICE, pattern)
    return { kind: 'url', scheme: parsed.scheme, host: parsed.hostname, port: parsed.port }
  }
  if (!HOST_PATTERN.test(pattern)) {
    const advice = pattern.includes(':') && !pattern.includes('[') ? ' (to restrict the port, add the scheme)' : ''
    throw new InvalidOptionError(option, PATTERN_ADVICE + advice, pattern)
  }
  const subdomains = pattern.startsWith('.')
  const host = hostnameOf(subdomains ? pattern.slice(1) : pattern)
  if (host === null) throw new InvalidOptionError(option, PATTERN_ADVICE, pattern)
  return { kind: 'host', host: subdomains ? `.${host}` : host }
}

/** The hostname as WHATWG URL normalises it (lower case, punycode), so patterns compare equal to parsed origins. */
export function hostnameOf(host: string): string | null {
  try {
    const { hostname } = new URL(`http://${host}`)
    return hostname === '' ? null : hostname
  } catch {
    return null
  }
}

/** `port` as a number, else the scheme's default port, else `null`. */
export function effectivePort(scheme: string, port: string): number | null {
  if (port !== '') return Number(port)
  return DEFAULT_PORTS.get(scheme) ?? null
}
