/**
 * Compiles a route pattern once into a matcher over the path a `URLRouter` sees (leading slashes already removed).
 * String patterns follow Django's `path()` (`<int:page>`) plus Express-style `:name`; RegExps follow `re_path()`.
 */
import { InvalidOptionError } from '../errors.js'

/** What a pattern captured, and what it left for nested routers. */
export interface PatternMatch {
  /** The unmatched rest of the path (`scope.pathRemaining` for the route's application). */
  readonly remaining: string
  /** Unnamed RegExp groups, only when the RegExp has no named groups (Django's rule). */
  readonly args: readonly string[]
  readonly kwargs: Readonly<Record<string, string | number>>
}

export interface PathPattern {
  /** The pattern as written, for messages. */
  readonly source: string | RegExp
  /** The match at the start of `path`, or `null`. */
  match(path: string): PatternMatch | null
}

interface Converter {
  readonly regex: string
  /** `undefined` rejects the value: the route does not match (Django's converter `ValueError`). */
  readonly toValue: (raw: string) => string | number | undefined
}

const asString = (raw: string): string => raw

// Django's default path converters (django.urls.converters), same regexes.
const CONVERTERS: ReadonlyMap<string, Converter> = new Map<string, Converter>([
  ['str', { regex: '[^/]+', toValue: asString }],
  ['slug', { regex: '[-a-zA-Z0-9_]+', toValue: asString }],
  ['uuid', { regex: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', toValue: asString }],
  ['path', { regex: '.+', toValue: asString }],
  [
    'int',
    {
      regex: '[0-9]+',
      // Python ints are unbounded; a JS number past 2^53 would silently name a different id, so it does not match.
      toValue: (raw) => {
        const value = Number(raw)
        return Number.isSafeInteger(value) ? value : undefined
      },
    },
  ],
])

// `<converter:name>`, bare `<name>`, or Express `:name`.
const PARAMETER = /<(?:([^<>:]*):)?([^<>]*)>|:([A-Za-z_][A-Za-z0-9_]*)/g
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
// Characters that mean something in Express/path-to-regexp patterns but are literal here: refuse rather than
// silently match a literal `*`.
const UNSUPPORTED = /[<>*?()]/

const LEADING_SLASHES = /^\/+/

/** Removes the leading slashes a router strips from paths, so `/chat/` and `chat/` are the same pattern. */
export function stripLeadingSlashes(path: string): string {
  return path.replace(LEADING_SLASHES, '')
}

/**
 * Compiles `pattern`. An `endpoint` pattern must consume the whole path; a prefix pattern (for an application that
 * routes further, see `isPathRouting`) leaves the rest in `remaining`.
 */
export function compilePathPattern(pattern: string | RegExp, options: { readonly endpoint: boolean }): PathPattern {
  if (typeof pattern === 'string') return compileRoutePattern(pattern, options.endpoint)
  if (pattern instanceof RegExp) return compileRegexPattern(pattern)
  throw new InvalidOptionError('pattern', 'a string such as "chat/<str:room>/" or a RegExp', pattern)
}

function compileRoutePattern(pattern: string, endpoint: boolean): PathPattern {
  const route = stripLeadingSlashes(pattern)
  const converters: Converter[] = []
  const names: string[] = []
  let source = '^'
  let literalStart = 0
  for (const found of route.matchAll(PARAMETER)) {
    source += escapeLiteral(pattern, route.slice(literalStart, found.index))
    literalStart = found.index + found[0].length
    const [, converterName, bracketName, colonName] = found
    const name = colonName ?? bracketName ?? ''
    if (!IDENTIFIER.test(name)) {
      throw new InvalidOptionError(`route "${pattern}"`, 'a pattern whose parameter names are identifiers', name)
    }
    if (names.includes(name)) {
      throw new InvalidOptionError(`route "${pattern}"`, 'a pattern that names each parameter once', name)
    }
    const converter = CONVERTERS.get(converterName ?? 'str')
    if (converter === undefined) {
      throw new InvalidOptionError(
        `route "${pattern}"`,
        `a pattern using the converters ${[...CONVERTERS.keys()].join(', ')}`,
        converterName,
      )
    }
    names.push(name)
    converters.push(converter)
    source += `(${converter.regex})`
  }
  source += escapeLiteral(pattern, route.slice(literalStart))
  // A prefix that does not end in `/` must still end at a segment boundary: `chat` must not match `chatroom/`.
  // (Django matches it; nothing good comes of that.)
  if (endpoint) source += '$'
  else if (route !== '' && !route.endsWith('/')) source += '(?=/|$)'
  const regex = new RegExp(source)

  return {
    source: pattern,
    match(path) {
      const found = regex.exec(path)
      if (found === null) return null
      const kwargs: [string, string | number][] = []
      for (const [index, name] of names.entries()) {
        const value = converters[index]?.toValue(found[index + 1] ?? '')
        if (value === undefined) return null
        kwargs.push([name, value])
      }
      // fromEntries defines properties, so even a parameter called `__proto__` stays an ordinary key.
      return { remaining: path.slice(found[0].length), args: [], kwargs: Object.fromEntries(kwargs) }
    },
  }
}

function escapeLiteral(pattern: string, literal: string): string {
  const bad = UNSUPPORTED.exec(literal)
  if (bad !== null) {
    throw new InvalidOptionError(
      `route "${pattern}"`,
      'a pattern of literal text, <converter:name> and :name (for a wildcard use <path:name> or a RegExp)',
      bad[0],
    )
  }
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

function compileRegexPattern(pattern: RegExp): PathPattern {
  // Routers strip leading slashes from the path, so a RegExp written for the full path (`/^\/ws\//`) is rewritten
  // to match without it; otherwise it could never match.
  const source = pattern.source.replace(/^(\^?)(?:\\\/|\/)+/, '$1')
  // Sticky (`y`): the match must start at the beginning of the remaining path even without `^`, which is where
  // Django's re_path ends up in every Channels test. `g` would make `exec` stateful across calls; drop it.
  const regex = new RegExp(source, pattern.flags.replace(/[gy]/g, '') + 'y')

  return {
    source: pattern,
    match(path) {
      regex.lastIndex = 0
      const found = regex.exec(path)
      if (found === null) return null
      const remaining = path.slice(found[0].length)
      if (found.groups === undefined) {
        // Django keeps positions (None for a group that did not take part); '' is the closest string.
        return { remaining, args: Array.from({ length: found.length - 1 }, (_, i) => found[i + 1] ?? ''), kwargs: {} }
      }
      // Django: with named groups, unnamed ones are ignored, and a named group that did not take part is absent.
      const groups: Readonly<Record<string, string | undefined>> = found.groups
      const kwargs = Object.entries(groups).filter((entry): entry is [string, string] => entry[1] !== undefined)
      return { remaining, args: [], kwargs: Object.fromEntries(kwargs) }
    },
  }
}
