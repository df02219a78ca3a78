import { decodePath } from '../protocol/decode-path.js'
import { InvalidOptionError } from '../errors.js'

/** The parts of a request target a scope keeps. */
export interface RequestTarget {
  /** Percent-decoded, always starting with `/`. */
  readonly path: string
  /** After `?` and before `#`, still encoded. */
  readonly queryString: string
}

const WITH_SCHEME = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i
const SCHEME_RELATIVE = /^\/\/[^/?#]*/
// No scheme and no leading slash: accepted only when the first segment is clearly an authority (userinfo `@` or a
// `:port`), as in `user:pass@example.com:8080/p?q`; a bare `ws/chat/` is ambiguous and rejected.
const BARE_AUTHORITY = /^[^/?#]*(?:@|:\d+(?=[/?#]|$))[^/?#]*/

/**
 * Splits what a test passes as a path into the scope's `path` and `queryString`. Accepts a path (`/ws/?a=1`), a full
 * URL (`wss://user:pass@example.com:8080/p?q=1#hash`), a scheme-relative URL (`//host/p`) or an authority-first form
 * (`user:pass@example.com:8080/p`); only the path and the query are kept.
 */
export function parseRequestTarget(target: string): RequestTarget {
  const raw: unknown = target // JavaScript callers: Channels raises TypeError for a non-str path too
  if (typeof raw !== 'string') throw new InvalidOptionError('path', 'a string', raw)
  const rest = stripAuthority(target)
  const withoutFragment = rest.split('#', 1)[0] ?? ''
  const question = withoutFragment.indexOf('?')
  const rawPath = question === -1 ? withoutFragment : withoutFragment.slice(0, question)
  const queryString = question === -1 ? '' : withoutFragment.slice(question + 1)
  return { path: decodePath(rawPath === '' ? '/' : rawPath), queryString }
}

function stripAuthority(target: string): string {
  if (target.startsWith('/') && !target.startsWith('//')) return target
  for (const prefix of [WITH_SCHEME, SCHEME_RELATIVE, BARE_AUTHORITY]) {
    const match = prefix.exec(target)
    if (match !== null) return target.slice(match[0].length)
  }
  throw new InvalidOptionError('path', 'a path starting with "/" or a full URL such as "ws://host/path"', target)
}
