import { InvalidMessageError, MessageNotSerializableError, MessageTooLargeError } from '../errors.js'
import type { Message, MessageValue } from './channel-layer.js'
import { POSITION_KEY } from './history/positions.js'

/** channels_redis marks process-specific targets with this key; users may not set it. */
export const RESERVED_ROUTING_KEY = '__asgi_channel__'

/** Deeper nesting than this is refused: decoders (msgpack, Python's) have recursion limits too. */
export const MAX_MESSAGE_DEPTH = 64

export interface PreparedMessage {
  /** A deep copy, frozen, so neither the sender's later mutations nor one receiver's can reach another. */
  readonly message: Message
  /** The msgpack-encoded size: what the Redis layer would write. */
  readonly bytes: number
}

/**
 * Validates a message against the task-queue rule (plain JSON/msgpack data only: pass ids, not objects), measures
 * its encoded size, and returns a frozen deep copy. One walk does all three.
 */
export function prepareMessage(message: unknown, maxMessageBytes: number): PreparedMessage {
  if (!isPlainObject(message)) {
    throw new InvalidMessageError(
      `A message must be a plain object with a string \`type\`, got ${describeKind(message)}`,
    )
  }
  const type = message.type
  if (typeof type !== 'string' || type.length === 0) {
    throw new InvalidMessageError(
      "A message needs a non-empty string `type` such as 'chat.message': it selects the handler that runs",
    )
  }
  for (const reserved of [RESERVED_ROUTING_KEY, POSITION_KEY]) {
    if (Object.hasOwn(message, reserved)) {
      throw new InvalidMessageError(`The message key \`${reserved}\` is reserved: the layer sets it`)
    }
  }
  const walker = new Walker()
  const copy = walker.copy(message, 'message', 0) as Message
  if (walker.bytes > maxMessageBytes) throw new MessageTooLargeError(walker.bytes, maxMessageBytes)
  return { message: copy, bytes: walker.bytes }
}

/**
 * Validates presence `info` (issue 16) as a message's data: a plain object of JSON values, no bytes (it is stored as
 * JSON), at most `maxInfoBytes` as msgpack measures it (`MessageTooLargeError` past that, as for a message). Returns
 * a frozen deep copy; `{}` when absent.
 */
export function preparePresenceInfo(info: unknown, maxInfoBytes: number): Readonly<Record<string, MessageValue>> {
  if (info === undefined) return Object.freeze({})
  if (!isPlainObject(info)) {
    throw new InvalidMessageError(
      `Presence info must be a plain object such as { user: 'ada' }, got ${describeKind(info)}`,
    )
  }
  const walker = new Walker(false)
  const copy = walker.copy(info, 'info', 0) as Readonly<Record<string, MessageValue>>
  if (walker.bytes > maxInfoBytes) {
    throw new MessageTooLargeError(walker.bytes, maxInfoBytes, { limitOption: 'maxPresenceInfoBytes' })
  }
  return copy
}

/**
 * Validates task progress `data` (issue 17) as a message's data: any JSON value, no bytes (it is kept as JSON), at most
 * `maxBytes` as msgpack measures it (`MessageTooLargeError` naming `MAX_PROGRESS_BYTES` past that). Returns a frozen
 * deep copy.
 */
export function prepareProgressData(data: unknown, maxBytes: number): MessageValue {
  const walker = new Walker(false)
  const copy = walker.copy(data, 'data', 0)
  if (walker.bytes > maxBytes)
    throw new MessageTooLargeError(walker.bytes, maxBytes, { limitOption: 'MAX_PROGRESS_BYTES' })
  return copy
}

class Walker {
  bytes = 0
  private readonly ancestors = new Map<object, string>()

  /** `allowBytes`: whether Uint8Array values pass (messages: yes; presence info, kept as JSON: no). */
  constructor(private readonly allowBytes = true) {}

  copy(value: unknown, path: string, depth: number): MessageValue {
    switch (typeof value) {
      case 'string':
        this.bytes += stringBytes(value)
        return value
      case 'boolean':
        this.bytes += 1
        return value
      case 'number':
        if (!Number.isFinite(value)) {
          throw new MessageNotSerializableError(path, `is ${String(value)}`, 'pass null or a finite number')
        }
        this.bytes += numberBytes(value)
        return value
      case 'undefined':
        throw new MessageNotSerializableError(path, 'is undefined', 'omit the key or pass null')
      case 'bigint':
        throw new MessageNotSerializableError(path, 'is a BigInt', 'pass it as a string or a safe integer')
      case 'symbol':
        throw new MessageNotSerializableError(path, 'is a symbol', 'pass a string')
      case 'function':
        throw new MessageNotSerializableError(
          path,
          'is a function',
          'messages carry data only: pass the values the receiver needs',
        )
      case 'object':
        return this.copyObject(value, path, depth)
    }
  }

  private copyObject(value: object | null, path: string, depth: number): MessageValue {
    if (value === null) {
      this.bytes += 1
      return null
    }
    if (value instanceof Uint8Array) {
      if (!this.allowBytes) {
        throw new MessageNotSerializableError(path, 'is a Uint8Array', 'presence info is JSON: pass a string (base64)')
      }
      this.bytes += lengthHeaderBytes(value.byteLength, 'bin') + value.byteLength
      return new Uint8Array(value)
    }
    if (depth >= MAX_MESSAGE_DEPTH) {
      throw new MessageNotSerializableError(
        path,
        `is nested deeper than ${MAX_MESSAGE_DEPTH} levels`,
        'flatten the data or pass an id',
      )
    }
    const seenAt = this.ancestors.get(value)
    if (seenAt !== undefined) {
      throw new MessageNotSerializableError(
        path,
        `refers back to \`${seenAt}\` (a cycle)`,
        'pass ids instead of linked objects',
      )
    }
    this.ancestors.set(value, path)
    const copy = Array.isArray(value) ? this.copyArray(value, path, depth) : this.copyPlain(value, path, depth)
    this.ancestors.delete(value)
    return Object.freeze(copy)
  }

  private copyArray(value: readonly unknown[], path: string, depth: number): MessageValue[] {
    if (Object.getPrototypeOf(value) !== Array.prototype) rejectInstance(value, path)
    this.bytes += lengthHeaderBytes(value.length, 'container')
    const copy: MessageValue[] = new Array<MessageValue>(value.length)
    for (let i = 0; i < value.length; i++) {
      const itemPath = `${path}[${i}]`
      if (!(i in value)) throw new MessageNotSerializableError(itemPath, 'is a hole in a sparse array', 'pass null')
      copy[i] = this.copy(value[i], itemPath, depth + 1)
    }
    return copy
  }

  private copyPlain(value: object, path: string, depth: number): Record<string, MessageValue> {
    if (!isPlainObject(value)) rejectInstance(value, path)
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new MessageNotSerializableError(path, 'has symbol keys', 'use string keys only')
    }
    const keys = Object.keys(value)
    this.bytes += lengthHeaderBytes(keys.length, 'container')
    const copy: Record<string, MessageValue> = {}
    for (const key of keys) {
      this.bytes += stringBytes(key)
      const item = this.copy(value[key], childPath(path, key), depth + 1)
      // A JSON-parsed `__proto__` key is data, not a prototype: define it rather than assign it.
      if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true })
      else copy[key] = item
    }
    return copy
  }
}

function rejectInstance(value: object, path: string): never {
  if (value instanceof Date) {
    throw new MessageNotSerializableError(path, 'is a Date', 'pass date.toISOString() or a timestamp in milliseconds')
  }
  if (value instanceof Map) {
    throw new MessageNotSerializableError(path, 'is a Map', 'pass a plain object or an array of [key, value] pairs')
  }
  if (value instanceof Set) throw new MessageNotSerializableError(path, 'is a Set', 'pass an array')
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw new MessageNotSerializableError(
      path,
      `is a ${constructorName(value)}`,
      'pass a Uint8Array (bytes) or an array of numbers',
    )
  }
  throw new MessageNotSerializableError(
    path,
    `holds a ${constructorName(value)} instance`,
    'pass its id (a primary key) or a plain object of the fields the receiver needs, and load the rest there',
  )
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function constructorName(value: object): string {
  const ctor: unknown = (value as { constructor?: unknown }).constructor
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'class'
}

function describeKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return `a ${constructorName(value)} instance`
  return typeof value
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

// msgpack sizes (the format channels_redis writes): headers grow with length; floats are always float64.
function stringBytes(value: string): number {
  const length = Buffer.byteLength(value, 'utf8')
  return length + (length < 32 ? 1 : lengthHeaderBytes(length, 'str'))
}

function lengthHeaderBytes(length: number, kind: 'str' | 'bin' | 'container'): number {
  if (kind === 'container') return length < 16 ? 1 : length < 0x10000 ? 3 : 5
  return length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
}

function numberBytes(value: number): number {
  if (!Number.isSafeInteger(value)) return 9
  if (value >= 0) return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value < 0x100000000 ? 5 : 9
  return value >= -32 ? 1 : value >= -0x80 ? 2 : value >= -0x8000 ? 3 : value >= -0x80000000 ? 5 : 9
}
