import { MessageDecodeError, MessageNotSerializableError } from '../../errors.js'
import { MAX_MESSAGE_DEPTH } from '../message-validation.js'

/**
 * The body of channels_redis's `"json"` serializer format: utf-8 JSON, written the way Python's `json.dumps()`
 * defaults write it (`", "` and `": "` separators, `ensure_ascii`), so Channels' vector
 * `{"a": true, "b": null, "c": {"d": []}}` comes out byte for byte. Python reads any valid JSON, so the layout
 * only matters for byte comparisons. Known differences: JS cannot tell 1.0 from 1 (it goes out as `1`), writes
 * -0 as `0`, and some floats in another but equal notation (`1e-7` where Python writes `1e-07`).
 *
 * JSON has no bytes and no NaN/Infinity (Python would write bare `NaN`, which is not JSON), so both are refused
 * when encoding. Decoding is `JSON.parse` without a reviver: it defines a `"__proto__"` key as an own property, so
 * parsed data cannot reach any prototype. Numbers follow `JSON.parse`: integers beyond 2^53 lose precision.
 */

/** Encodes a message as Python's `json.dumps(message).encode()` would; throws `MessageNotSerializableError`. */
export function encodeJson(message: Readonly<Record<string, unknown>>): Buffer {
  return Buffer.from(writeValue(message, 'message', 0), 'utf8')
}

/** Decodes a JSON body to a message object; throws `MessageDecodeError` (without quoting the payload). */
export function decodeJson(body: Uint8Array): Record<string, unknown> {
  let text: string
  try {
    text = utf8.decode(body)
  } catch (cause) {
    throw new MessageDecodeError('Cannot decode the message: its JSON body is not valid utf-8', { cause })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new MessageDecodeError('Cannot decode the message: its body is not valid JSON', {
      cause: sanitizeSyntaxError(error),
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MessageDecodeError(
      `Cannot decode the message: its JSON body is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not an object`,
    )
  }
  return value as Record<string, unknown>
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function writeValue(value: unknown, path: string, depth: number): string {
  switch (typeof value) {
    case 'string':
      return writeString(value)
    case 'boolean':
      return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) {
        throw new MessageNotSerializableError(
          path,
          `is ${value}, which JSON cannot carry`,
          'pass null or a finite number',
        )
      }
      return JSON.stringify(value)
    case 'object':
      if (value === null) return 'null'
      if (value instanceof Uint8Array) {
        throw new MessageNotSerializableError(
          path,
          'holds bytes (a Uint8Array), which the json serializer format cannot carry',
          "use the 'msgpack' format (channels_redis's default), or send the bytes base64-encoded as a string",
        )
      }
      if (depth >= MAX_MESSAGE_DEPTH) {
        throw new MessageNotSerializableError(
          path,
          `is nested deeper than ${MAX_MESSAGE_DEPTH} levels (or is part of a cycle)`,
          'flatten the data or pass an id',
        )
      }
      return Array.isArray(value) ? writeArray(value, path, depth) : writeObject(value, path, depth)
    default:
      throw new MessageNotSerializableError(path, `is ${typeof value}`, 'pass null, a string, a number or a boolean')
  }
}

function writeArray(value: readonly unknown[], path: string, depth: number): string {
  if (Object.getPrototypeOf(value) !== Array.prototype) rejectInstance(value, path)
  const items: string[] = []
  for (let i = 0; i < value.length; i++) {
    const itemPath = `${path}[${i}]`
    if (!(i in value)) throw new MessageNotSerializableError(itemPath, 'is a hole in a sparse array', 'pass null')
    items.push(writeValue(value[i], itemPath, depth + 1))
  }
  return `[${items.join(', ')}]`
}

function writeObject(value: object, path: string, depth: number): string {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) rejectInstance(value, path)
  const members: string[] = []
  for (const [key, item] of Object.entries(value)) {
    members.push(`${writeString(key)}: ${writeValue(item, childPath(path, key), depth + 1)}`)
  }
  return `{${members.join(', ')}}`
}

const HAS_NON_ASCII = /[\u007f-\uffff]/
const NON_ASCII = /[\u007f-\uffff]/g

/** JSON.stringify escapes `"`, `\` and controls exactly as Python does; `ensure_ascii` also escapes DEL and up. */
function writeString(value: string): string {
  const quoted = JSON.stringify(value)
  if (!HAS_NON_ASCII.test(quoted)) return quoted
  // Per UTF-16 unit, as Python does: an astral character becomes its surrogate pair, `\ud83d\ude00`.
  return quoted.replace(NON_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

function rejectInstance(value: object, path: string): never {
  const ctor: unknown = (value as { constructor?: unknown }).constructor
  const name = typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'class'
  throw new MessageNotSerializableError(
    path,
    `holds a ${name} instance`,
    'pass plain objects, arrays, strings, numbers, booleans or null (the json format carries nothing else)',
  )
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

/** V8's JSON.parse messages quote the payload; keep only the position. */
function sanitizeSyntaxError(error: unknown): Error {
  const position = error instanceof Error ? /at position (\d+)/.exec(error.message)?.[1] : undefined
  return new SyntaxError(
    position === undefined ? 'invalid JSON' : `invalid JSON at position ${position} (of the decoded text)`,
  )
}
