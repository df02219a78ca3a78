import { captureError } from '../../support/wait.js'
import { describe, expect, it } from 'vitest'

import { MessageDecodeError, MessageNotSerializableError } from '../../../src/errors.js'
import { MAX_MESSAGE_DEPTH } from '../../../src/layers/message-validation.js'
import { decodeMsgpack, encodeMsgpack } from '../../../src/layers/redis/msgpack-codec.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const fromHex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex')
/** The msgpack of `{ v: value }`, minus the 3-byte `81 a1 76` header: the encoding of `value` alone. */
const encodeValue = (value: unknown): string => hex(encodeMsgpack({ v: value })).slice(6)
const decodeValue = (valueHex: string): unknown => decodeMsgpack(fromHex(`81a176${valueHex}`)).v

describe('encodeMsgpack', () => {
  it("writes Channels' test vector byte for byte", () => {
    // channels_redis test_serializers.py / test_sentinel.py::test_serialize
    expect(hex(encodeMsgpack({ a: true, b: null, c: { d: [] } }))).toBe('83a161c3a162c0a16381a16490')
  })

  it('writes the routing field as reference/channels.md 2.6 shows it', () => {
    const expected = (channel: string) =>
      '83' +
      'a4' +
      hex(Buffer.from('type')) +
      'ac' +
      hex(Buffer.from('chat.message')) +
      'a4' +
      hex(Buffer.from('text')) +
      'a2' +
      hex(Buffer.from('hi')) +
      'b0' +
      hex(Buffer.from('__asgi_channel__')) +
      channel
    const message = { type: 'chat.message', text: 'hi', __asgi_channel__: 'specific.a!b' }
    expect(hex(encodeMsgpack(message))).toBe(expected('ac' + hex(Buffer.from('specific.a!b'))))
    expect(hex(encodeMsgpack({ ...message, __asgi_channel__: ['specific.a!b'] }))).toBe(
      expected('91ac' + hex(Buffer.from('specific.a!b'))),
    )
    const longName = `specific.${'a'.repeat(32)}!${'b'.repeat(32)}`
    expect(encodeValue(longName)).toBe('d94a' + hex(Buffer.from(longName)))
  })

  it('writes every non-integer as float64, never float32', () => {
    expect(encodeValue(1.5)).toBe('cb3ff8000000000000')
    expect(encodeValue(0.1)).toBe('cb3fb999999999999a')
    expect(encodeValue(-2.5)).toBe('cbc004000000000000')
    expect(encodeValue(Number.NaN)).toBe('cb7ff8000000000000')
    expect(encodeValue(Number.POSITIVE_INFINITY)).toBe('cb7ff0000000000000')
  })

  it.each([
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [255, 'ccff'],
    [256, 'cd0100'],
    [65535, 'cdffff'],
    [65536, 'ce00010000'],
    [2 ** 32 - 1, 'ceffffffff'],
    // Python writes uint64 (cf) here; int64 (d3) is the same size and value (see msgpack-codec.ts).
    [2 ** 32, 'd30000000100000000'],
    [2 ** 53 - 1, 'd3001fffffffffffff'],
    [-1, 'ff'],
    [-32, 'e0'],
    [-33, 'd0df'],
    [-128, 'd080'],
    [-129, 'd1ff7f'],
    [-32768, 'd18000'],
    [-32769, 'd2ffff7fff'],
    [-(2 ** 31), 'd280000000'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
    [-(2 ** 53 - 1), 'd3ffe0000000000001'],
    // Not a safe integer: a float in all but name, written as one.
    [2 ** 53, 'cb4340000000000000'],
    [1e20, 'cb4415af1d78b58c40'],
  ])('writes the integer %d in its smallest encoding', (value, expected) => {
    expect(encodeValue(value)).toBe(expected)
    expect(decodeValue(expected)).toBe(value)
  })

  it.each([
    [31, 'bf'],
    [32, 'd920'],
    [255, 'd9ff'],
    [256, 'da0100'],
    [65535, 'daffff'],
    [65536, 'db00010000'],
  ])('writes a %i-byte string with the header %s', (length, header) => {
    const ascii = 'x'.repeat(length)
    expect(encodeValue(ascii).slice(0, header.length)).toBe(header)
    expect(encodeValue(ascii).length).toBe(header.length + 2 * length)
    // The header counts utf-8 bytes, not UTF-16 units: 'é' is two bytes.
    if (length % 2 === 0) expect(encodeValue('é'.repeat(length / 2)).slice(0, header.length)).toBe(header)
  })

  it('writes bytes as bin and strings as str, including non-ASCII', () => {
    expect(encodeValue(new Uint8Array([1, 2, 3]))).toBe('c403010203')
    expect(encodeValue(Buffer.from([1, 2, 3]))).toBe('c403010203')
    expect(encodeValue(new Uint8Array(256)).slice(0, 6)).toBe('c50100')
    expect(encodeValue(new Uint8Array(0))).toBe('c400')
    expect(encodeValue('é😀')).toBe('a6c3a9f09f9880')
  })

  it('uses fixmap and fixarray up to 15 entries, then map16 and array16', () => {
    const entries = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))
    expect(encodeValue(entries(15)).slice(0, 2)).toBe('8f')
    expect(encodeValue(entries(16)).slice(0, 6)).toBe('de0010')
    expect(encodeValue(new Array<number>(15).fill(0)).slice(0, 2)).toBe('9f')
    expect(encodeValue(new Array<number>(16).fill(0)).slice(0, 6)).toBe('dc0010')
  })

  it('encodes null-prototype objects as maps', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 1 })
    expect(encodeValue(bare)).toBe('81a16b01')
  })

  it.each([
    ['undefined', { type: 'x', v: undefined }, 'message.v'],
    ['a BigInt', { type: 'x', nested: { v: 1n } }, 'message.nested.v'],
    ['a symbol', { type: 'x', v: Symbol('s') }, 'message.v'],
    ['a function', { type: 'x', v: () => 1 }, 'message.v'],
    ['a Date', { type: 'x', when: new Date(0) }, 'message.when'],
    ['a Map', { type: 'x', v: new Map() }, 'message.v'],
    ['a Set', { type: 'x', list: [1, new Set()] }, 'message.list[1]'],
    ['an Int16Array', { type: 'x', v: new Int16Array(2) }, 'message.v'],
    [
      'a class instance',
      {
        type: 'x',
        'user name': new (class User {
          id = 1
        })(),
      },
      'message["user name"]',
    ],
    ['a sparse array hole', { type: 'x', v: holey() }, 'message.v[1]'],
  ])('refuses %s, naming its path', (_, message, path) => {
    const error = captureError(() => encodeMsgpack(message))
    expect(error).toBeInstanceOf(MessageNotSerializableError)
    expect((error as MessageNotSerializableError).path).toBe(path)
  })

  it('refuses a cycle and over-deep nesting instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { type: 'x' }
    cyclic.self = cyclic
    expect(() => encodeMsgpack(cyclic)).toThrow(MessageNotSerializableError)
    let deep: unknown = 'leaf'
    for (let i = 0; i < MAX_MESSAGE_DEPTH; i++) deep = [deep]
    expect(() => encodeMsgpack({ deep })).toThrow(/nested deeper than 64 levels/)
  })

  it('does not touch the message it encodes', () => {
    const message = { type: 'x', big: 2 ** 40, list: [2 ** 33] }
    encodeMsgpack(message)
    expect(message).toEqual({ type: 'x', big: 2 ** 40, list: [2 ** 33] })
  })
})

describe('decodeMsgpack', () => {
  it("reads Channels' test vector", () => {
    expect(decodeMsgpack(fromHex('83a161c3a162c0a16381a16490'))).toEqual({ a: true, b: null, c: { d: [] } })
  })

  it('round-trips a nested message', () => {
    const message = {
      type: 'chat.message',
      text: 'héllo 😀',
      n: [0, -1, 1.5, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 40, -(2 ** 40)],
      nested: { deeper: { flag: false, nothing: null, blob: new Uint8Array([0, 255]) } },
    }
    expect(decodeMsgpack(encodeMsgpack(message))).toEqual(message)
  })

  it('reads float64 and float32 as numbers (1.0 becomes 1)', () => {
    expect(decodeValue('cb3ff0000000000000')).toBe(1)
    expect(decodeValue('ca3fc00000')).toBe(1.5)
  })

  it('reads bin as a plain Uint8Array copy, not a Buffer or a view of the payload', () => {
    const payload = fromHex('81a162c403010203')
    const { b } = decodeMsgpack(payload)
    expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype)
    expect(b).toEqual(new Uint8Array([1, 2, 3]))
    payload.fill(0)
    expect(b).toEqual(new Uint8Array([1, 2, 3]))
  })

  it('reads uint64 and int64 up to ±(2^53 - 1) as numbers', () => {
    expect(decodeValue('cf001fffffffffffff')).toBe(2 ** 53 - 1)
    expect(decodeValue('cf0000000100000000')).toBe(2 ** 32)
    expect(decodeValue('d3ffe0000000000001')).toBe(-(2 ** 53 - 1))
  })

  it.each([
    ['cf0020000000000000', '2^53'],
    ['cfffffffffffffffff', '2^64 - 1'],
    ['d3ffe0000000000000', '-2^53'],
  ])('refuses the integer %s (%s) rather than lose precision', (valueHex) => {
    const error = captureError(() => decodeValue(valueHex))
    expect(error).toBeInstanceOf(MessageDecodeError)
    expect((error as Error).message).toMatch(
      /`message\.v` is an integer beyond ±\(2\^53 - 1\).*send such values as strings/,
    )
  })

  it('turns a __proto__ key into an own property without touching any prototype', () => {
    // {"__proto__": {"polluted": true}, "type": "x"}
    const payload = fromHex('82a95f5f70726f746f5f5f81a8706f6c6c75746564c3a474797065a178')
    const decoded = decodeMsgpack(payload)
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(Object.keys(decoded)).toEqual(['__proto__', 'type'])
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true })
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    // And it survives a re-encode as data, byte for byte.
    expect(hex(encodeMsgpack(decoded))).toBe(hex(payload))
  })

  it('keeps a literal "__proto_" key apart from "__proto__"', () => {
    // {"__proto_": 1, "__proto__": 2}
    const decoded = decodeMsgpack(fromHex('82a85f5f70726f746f5f01a95f5f70726f746f5f5f02'))
    expect(Object.entries(decoded)).toEqual([
      ['__proto_', 1],
      ['__proto__', 2],
    ])
  })

  it('turns bytes map keys into strings', () => {
    // {b"key": 1, b"\xc3\xa9": 2}
    expect(decodeMsgpack(fromHex('82c4036b657901c402c3a902'))).toEqual({ key: 1, é: 2 })
  })

  it.each([
    ['an int key', '810102', /has a key that is a number; map keys must be str or bytes/],
    ['a nil key', '81c001', /has a key that is null/],
    ['a non-utf-8 bytes key', '81c401ff01', /a bytes key in `message` is not utf-8/],
    ['a timestamp ext', '81a176d6ff00000000', /`message\.v` is a timestamp extension/],
    ['an unknown fixext', '81a176d40501', /not valid msgpack/],
    ['an unknown ext8', '81a176c70305010203', /not valid msgpack/],
    ['msgpackr\'s "undefined" fixext', '81a176d40000', /`message\.v` is undefined/],
    ['the never-used 0xc1 byte', '81a176c1', /`message\.v` is an extension or record value/],
    ['an array body', '9101', /the body holds an array, not a msgpack map/],
    ['a string body', 'a178', /the body holds a string, not a msgpack map/],
    ['a truncated body', '82a161c3', /not valid msgpack/],
    ['an empty body', '', /not valid msgpack/],
  ])('refuses %s with MessageDecodeError', (_, payloadHex, message) => {
    const error = captureError(() => decodeMsgpack(fromHex(payloadHex)))
    expect(error).toBeInstanceOf(MessageDecodeError)
    expect((error as Error).message).toMatch(message)
  })

  it('refuses trailing bytes without quoting the payload in the error or its cause', () => {
    const secret = 'card-4111-1111'
    const payload = Buffer.concat([encodeMsgpack({ type: 'x', secret }), fromHex('c0')])
    const error = captureError(() => decodeMsgpack(payload))
    expect(error).toBeInstanceOf(MessageDecodeError)
    expect((error as Error).message).not.toContain(secret)
    expect(((error as Error).cause as Error).message).not.toContain(secret)
    expect(((error as Error).cause as Error).message).toMatch(/trailing bytes/)
  })
})

/** [1, <hole>, 3] */
function holey(): number[] {
  const array: number[] = []
  array[0] = 1
  array[2] = 3
  return array
}
