/** JSON in and out for the showcase's small HTTP APIs and sockets. */
import { getHeader, type HttpConsumer, type Scope } from 'switchyard-channels'

/** `value` as a plain object to read fields from, or undefined when it is not one. */
export function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Readonly<Record<string, unknown>>)
    : undefined
}

/**
 * The deepest nesting of arrays and objects a body may have. Parsing deeper JSON is fine, but code that walks the
 * value recursively (`JSON.stringify` of a webhook payload, for one) overflows the stack: a 500 for what is a bad
 * request (issue 14, item 5).
 */
export const MAX_JSON_DEPTH = 64

/** A request body read by `readJsonBody`: the object, or the status and message to answer with. */
export type JsonBody =
  | { readonly ok: true; readonly value: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly status: number; readonly error: string }

/**
 * Reads a JSON object body. Requiring `Content-Type: application/json` and a same-origin `Origin` (when the browser
 * sends one) is the CSRF defence: an HTML form on another site can post only form encodings and text/plain, and a
 * cross-origin `fetch` with JSON needs a CORS preflight this app never grants. A body nested deeper than
 * `MAX_JSON_DEPTH` is refused with 400 before it is parsed.
 */
export function readJsonBody(scope: Scope, body: Uint8Array): JsonBody {
  if (scope.type !== 'http') return { ok: false, status: 400, error: 'not an HTTP request' }
  const contentType = getHeader(scope, 'content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    return { ok: false, status: 415, error: 'send the body as JSON with Content-Type: application/json' }
  }
  const origin = getHeader(scope, 'origin')
  if (origin !== undefined && !sameOrigin(origin, getHeader(scope, 'host'))) {
    return { ok: false, status: 403, error: 'cross-origin requests are refused' }
  }
  const text = Buffer.from(body).toString('utf8')
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    return { ok: false, status: 400, error: `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels` }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { ok: false, status: 400, error: 'the body is not valid JSON' }
  }
  const value = asRecord(parsed)
  return value === undefined ? { ok: false, status: 400, error: 'the body must be a JSON object' } : { ok: true, value }
}

/** Answers with `value` as JSON. */
export async function respondJson(consumer: HttpConsumer, status: number, value: unknown): Promise<void> {
  await consumer.sendResponse(status, JSON.stringify(value), {
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  })
}

/** The HTTP method, for consumers that answer several. */
export function methodOf(scope: Scope): string {
  return scope.type === 'http' ? scope.method : ''
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}

/**
 * How deeply `[` and `{` nest in JSON text, brackets inside strings aside; counted in one pass without parsing, so
 * it costs no stack whatever the input (invalid JSON gets some count, and JSON.parse refuses it next).
 */
export function nestingDepth(text: string): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (inString) {
      if (char === '\\') i++
      else if (char === '"') inString = false
    } else if (char === '"') inString = true
    else if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth)
    else if (char === ']' || char === '}') depth--
  }
  return deepest
}
