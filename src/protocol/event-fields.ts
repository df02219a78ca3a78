import { describeValue } from '../describe-value.js'
/**
 * Runtime checks shared by the protocol states. Events reach a server from JavaScript callers and casts too, so the
 * checks read them as plain fields instead of trusting their static types.
 */
import { InvalidEventError } from '../errors.js'

/** An event read as plain fields: an object with a string `type`. */
export interface EventFields {
  readonly type: string
  readonly [key: string]: unknown
}

/** Reads `event` as an object with a string `type`, or throws `InvalidEventError`. */
export function readEvent(event: unknown): EventFields {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidEventError(`Expected an event object with a string \`type\`, got ${describeValue(event)}`)
  }
  const type: unknown = (event as { readonly type?: unknown }).type
  if (typeof type !== 'string') {
    throw new InvalidEventError(`Expected an event with a string \`type\`, got \`type\` ${describeValue(type)}`)
  }
  return event as EventFields
}

/** True when the field is absent: ASGI treats a missing key and `None` (here `null` or `undefined`) alike. */
export function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null
}

// Node's own rules for header names and values (`ERR_INVALID_HTTP_TOKEN`, `ERR_INVALID_CHAR`): a header the real
// server could not write is rejected when it is sent, where the stack trace still points at the application.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const INVALID_HEADER_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/

/** Checks an optional `headers` field: an array of `[name, value]` string pairs Node can write. */
export function checkHeaders(event: EventFields): void {
  const headers = event.headers
  if (headers === undefined) return
  if (!Array.isArray(headers)) {
    throw new InvalidEventError(
      `${event.type} \`headers\` must be an array of [name, value] string pairs, got ${describeValue(headers)}`,
    )
  }
  for (const [index, pair] of (headers as unknown[]).entries()) checkHeaderPair(event.type, index, pair)
}

function checkHeaderPair(type: string, index: number, pair: unknown): void {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
    throw new InvalidEventError(
      `${type} \`headers[${index}]\` must be a [name, value] pair of strings, got ${describeValue(pair)}`,
    )
  }
  const [name, value] = pair as [string, string]
  if (!HEADER_NAME.test(name)) {
    throw new InvalidEventError(`${type} \`headers[${index}]\` has an invalid header name ${describeValue(name)}`)
  }
  if (INVALID_HEADER_VALUE_CHAR.test(value)) {
    throw new InvalidEventError(
      `${type} header "${name}" has a value with a character HTTP forbids (a control character such as CR or LF)`,
    )
  }
}
