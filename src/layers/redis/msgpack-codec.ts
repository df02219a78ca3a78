import { createRequire } from 'node:module'

import type { Packr, Unpackr } from 'msgpackr'

import { MessageDecodeError, MessageNotSerializableError } from '../../errors.js'
import { MAX_MESSAGE_DEPTH } from '../message-validation.js'

/**
 * The msgpack body of a channels_redis message, byte-compatible with Python msgpack 1.x `packb()` / `unpackb()`
 * defaults (reference/channels.md 2.6). Python's rules and how each is kept here:
 *
 * - str -> str family (utf-8), bytes -> bin family, float -> float64 (0xcb) always, int -> smallest encoding,
 *   dict -> map (smallest header), list -> array, None/True/False. No ext types either way.
 * - JS has one number type: an integer that is a safe integer goes out as an int, anything else (fractions,
 *   NaN, ±Infinity, and integral values beyond 2^53 - 1, which are floats in all but name) as float64.
 *   msgpackr writes integers outside the 32-bit ranges as float64, so those are handed to it as BigInt: they
 *   then go out as int64 (0xd3). Python writes positive ones as uint64 (0xcf); both are 9 bytes and decode to
 *   the same Python int, so this is the only byte difference from `packb` and it changes no value.
 * - Decoding: int64 / uint64 values beyond ±(2^53 - 1) throw `MessageDecodeError` rather than silently losing
 *   precision (an id that comes back off by one is worse than a loud error); BigInt never reaches callers.
 * - Map keys must be str or bytes, as `unpackb(strict_map_key=True)` demands; bytes keys become strings
 *   (utf-8). Maps become plain objects and a `__proto__` key becomes an own property, never a prototype.
 * - bin decodes to a plain `Uint8Array` copy (not a Buffer, not a view of the payload).
 */

interface Codec {
  readonly packr: Packr
  readonly unpackr: Unpackr
}

let codec: Codec | undefined

/**
 * msgpackr (and its native extension) loads with the first message encoded or decoded, not with the package:
 * apps on the in-memory layer or the JSON codec never need it.
 */
function msgpack(): Codec {
  if (codec !== undefined) return codec
  const { FLOAT32_OPTIONS, Packr, Unpackr } = createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr')
  codec = {
    // variableMapSize gives fixmap/map16/map32 by size (msgpackr otherwise always writes map16, which Python never does).
    packr: new Packr({
      useRecords: false,
      variableMapSize: true,
      useFloat32: FLOAT32_OPTIONS.NEVER,
      encodeUndefinedAsNil: false,
    }),
    // Maps come back as Map so that bytes keys and a `__proto__` key survive (mapsAsObjects would rename `__proto__`).
    unpackr: new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint', structuredClone: false }),
  }
  return codec
}

const INT32_MIN = -0x8000_0000
const UINT32_MAX = 0xffff_ffff
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Encodes a message as Python's `msgpack.packb(message)` would; throws `MessageNotSerializableError` first. */
export function encodeMsgpack(message: Readonly<Record<string, unknown>>): Buffer {
  const needsBigInts = checkEncodable(message, [])
  return msgpack().packr.pack(needsBigInts ? withBigInts(message) : message)
}

/** Decodes a msgpack body as Python's `msgpack.unpackb(body)` would; throws `MessageDecodeError`. */
export function decodeMsgpack(body: Uint8Array): Record<string, unknown> {
  let raw: unknown
  try {
    raw = msgpack().unpackr.unpack(body) as unknown
  } catch (error) {
    throw new MessageDecodeError('Cannot decode the message: its body is not valid msgpack', {
      cause: sanitizeUnpackError(error),
    })
  }
  if (!(raw instanceof Map)) {
    throw new MessageDecodeError(`Cannot decode the message: the body holds ${kindOf(raw)}, not a msgpack map`)
  }
  return fromMap(raw, [])
}

/**
 * Walks the message once: refuses what msgpack cannot carry as Python reads it; true if BigInts are needed.
 * `trail` holds the keys from the root; the path string is built only for an error (this walk runs on every send).
 */
function checkEncodable(value: unknown, trail: (string | number)[]): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false
    case 'number':
      return Number.isSafeInteger(value) && (value < INT32_MIN || value > UINT32_MAX)
    case 'object':
      if (value === null || value instanceof Uint8Array) return false
      if (trail.length >= MAX_MESSAGE_DEPTH) {
        throw new MessageNotSerializableError(
          pathOf(trail),
          `is nested deeper than ${MAX_MESSAGE_DEPTH} levels (or is part of a cycle)`,
          'flatten the data or pass an id',
        )
      }
      return Array.isArray(value) ? checkArray(value, trail) : checkObject(value, trail)
    default:
      throw new MessageNotSerializableError(
        pathOf(trail),
        `is ${typeof value}`,
        'pass null, a string, a number or a boolean',
      )
  }
}

function checkArray(value: readonly unknown[], trail: (string | number)[]): boolean {
  if (Object.getPrototypeOf(value) !== Array.prototype) rejectInstance(value, trail)
  let needsBigInts = false
  for (let i = 0; i < value.length; i++) {
    trail.push(i)
    if (!(i in value)) throw new MessageNotSerializableError(pathOf(trail), 'is a hole in a sparse array', 'pass null')
    if (checkEncodable(value[i], trail)) needsBigInts = true
    trail.pop()
  }
  return needsBigInts
}

function checkObject(value: object, trail: (string | number)[]): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) rejectInstance(value, trail)
  let needsBigInts = false
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    trail.push(key)
    if (checkEncodable(record[key], trail)) needsBigInts = true
    trail.pop()
  }
  return needsBigInts
}

function pathOf(trail: readonly (string | number)[]): string {
  let path = 'message'
  for (const step of trail) path = typeof step === 'number' ? `${path}[${step}]` : childPath(path, step)
  return path
}

function rejectInstance(value: object, trail: readonly (string | number)[]): never {
  const ctor: unknown = (value as { constructor?: unknown }).constructor
  const name = typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'class'
  throw new MessageNotSerializableError(
    pathOf(trail),
    `holds a ${name} instance, which msgpack would write as an extension type Python cannot read`,
    'pass plain objects, arrays, strings, numbers, booleans, null or Uint8Array bytes',
  )
}

/** A copy in which every safe integer outside the 32-bit ranges is a BigInt (see the module comment). */
function withBigInts(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && (value < INT32_MIN || value > UINT32_MAX) ? BigInt(value) : value
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value
  if (Array.isArray(value)) return value.map(withBigInts)
  const copy: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) defineOwn(copy, key, withBigInts(item))
  return copy
}

function fromValue(value: unknown, trail: (string | number)[]): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value
    case 'bigint':
      if (value > MAX_SAFE || value < MIN_SAFE) {
        throw new MessageDecodeError(
          `Cannot decode the message: \`${pathOf(trail)}\` is an integer beyond ±(2^53 - 1), which a JS number ` +
            'cannot hold exactly; send such values as strings',
        )
      }
      return Number(value)
    case 'object':
      if (value === null) return null
      // A copy: msgpackr hands out views of the payload buffer, and Buffer is not what callers compare against.
      if (value instanceof Uint8Array) return new Uint8Array(value)
      if (Array.isArray(value)) return fromArray(value, trail)
      if (value instanceof Map) return fromMap(value, trail)
  }
  throw new MessageDecodeError(
    `Cannot decode the message: \`${pathOf(trail)}\` is ${kindOf(value)}, which Python's msgpack never writes ` +
      'for a channel-layer message (extension types are not accepted)',
  )
}

/** In place: the array is msgpackr's fresh output, nobody else holds it. */
function fromArray(array: unknown[], trail: (string | number)[]): unknown[] {
  for (let i = 0; i < array.length; i++) {
    trail.push(i)
    array[i] = fromValue(array[i], trail)
    trail.pop()
  }
  return array
}

function fromMap(map: Map<unknown, unknown>, trail: (string | number)[]): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  for (const [rawKey, item] of map) {
    const key = typeof rawKey === 'string' ? rawKey : mapKey(rawKey, trail)
    trail.push(key)
    defineOwn(object, key, fromValue(item, trail))
    trail.pop()
  }
  return object
}

function mapKey(key: unknown, trail: readonly (string | number)[]): string {
  if (key instanceof Uint8Array) {
    try {
      return utf8.decode(key)
    } catch (cause) {
      throw new MessageDecodeError(`Cannot decode the message: a bytes key in \`${pathOf(trail)}\` is not utf-8`, {
        cause,
      })
    }
  }
  throw new MessageDecodeError(
    `Cannot decode the message: \`${pathOf(trail)}\` has a key that is ${kindOf(key)}; map keys must be str or ` +
      "bytes (as Python's unpackb requires)",
  )
}

/** `__proto__` is data here: define it as an own property instead of letting assignment set the prototype. */
function defineOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  else object[key] = value
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date) return 'a timestamp extension'
  if (typeof value === 'object') return 'an extension or record value'
  return `a ${typeof value}`
}

/** msgpackr's "end of buffer not reached" message quotes the decoded data; keep payloads out of errors and logs. */
function sanitizeUnpackError(error: unknown): unknown {
  if (error instanceof Error && error.message.startsWith('Data read, but end of buffer not reached')) {
    return new Error('msgpack: trailing bytes after the first value')
  }
  return error
}
