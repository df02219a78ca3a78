import { captureError } from '../../support/wait.js'
import { describe, expect, it } from 'vitest'

import { MessageDecodeError, MessageNotSerializableError } from '../../../src/errors.js'
import { decodeJson, encodeJson } from '../../../src/layers/redis/json-codec.js'

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')

describe('encodeJson', () => {
  it("writes Channels' json test vector byte for byte (Python's json.dumps layout)", () => {
    expect(text(encodeJson({ a: true, b: null, c: { d: [] } }))).toBe('{"a": true, "b": null, "c": {"d": []}}')
    expect(text(encodeJson({ list: [1, 2.5, -3], empty: {}, s: 'x' }))).toBe(
      '{"list": [1, 2.5, -3], "empty": {}, "s": "x"}',
    )
  })

  it('escapes as json.dumps does with ensure_ascii: controls, quotes, DEL and everything above it', () => {
    const encoded = encodeJson({ clé: 'é😀\u007f\n\t"\\\u0001\ud800' })
    expect(text(encoded)).toBe(String.raw`{"cl\u00e9": "\u00e9\ud83d\ude00\u007f\n\t\"\\\u0001\ud800"}`)
    expect(encoded.every((byte) => byte < 0x80)).toBe(true)
  })

  it('refuses bytes, naming the path and advising msgpack', () => {
    const error = captureError(() => encodeJson({ type: 'x', data: { items: ['a', new Uint8Array([1])] } }))
    expect(error).toBeInstanceOf(MessageNotSerializableError)
    expect((error as MessageNotSerializableError).path).toBe('message.data.items[1]')
    expect((error as Error).message).toMatch(/holds bytes .*use the 'msgpack' format/)
    expect(() => encodeJson({ type: 'x', b: Buffer.from('x') })).toThrow(MessageNotSerializableError)
  })

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['undefined', undefined],
    ['a BigInt', 1n],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
  ])('refuses %s', (_, value) => {
    const error = captureError(() => encodeJson({ type: 'x', v: value }))
    expect(error).toBeInstanceOf(MessageNotSerializableError)
    expect((error as MessageNotSerializableError).path).toBe('message.v')
  })

  it('refuses a cycle instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { type: 'x' }
    cyclic.self = cyclic
    expect(() => encodeJson(cyclic)).toThrow(/nested deeper than 64 levels \(or is part of a cycle\)/)
  })
})

describe('decodeJson', () => {
  it('reads what Python writes and what we write', () => {
    const message = { type: 'chat.message', text: 'héllo 😀', n: [1, 1.5, -2], nested: { ok: true, none: null } }
    expect(decodeJson(encodeJson(message))).toEqual(message)
    expect(decodeJson(Buffer.from('{"a":true,"b":null,"c":{"d":[]}}'))).toEqual({ a: true, b: null, c: { d: [] } })
  })

  it('defines a __proto__ key as an own property, reaching no prototype', () => {
    const decoded = decodeJson(Buffer.from('{"__proto__": {"polluted": true}, "type": "x"}'))
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(Object.keys(decoded)).toEqual(['__proto__', 'type'])
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({ polluted: true })
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    // Re-encoding keeps it as data.
    expect(text(encodeJson(decoded))).toBe('{"__proto__": {"polluted": true}, "type": "x"}')
  })

  it.each([
    ['an array', '[1]', /its JSON body is an array, not an object/],
    ['null', 'null', /its JSON body is null, not an object/],
    ['a string', '"x"', /its JSON body is a string, not an object/],
    ['Python NaN', '{"v": NaN}', /not valid JSON/],
    ['an empty body', '', /not valid JSON/],
  ])('refuses %s', (_, body, message) => {
    const error = captureError(() => decodeJson(Buffer.from(body)))
    expect(error).toBeInstanceOf(MessageDecodeError)
    expect((error as Error).message).toMatch(message)
  })

  it('refuses invalid utf-8', () => {
    expect(() => decodeJson(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(/not valid utf-8/)
  })

  it('keeps the payload out of the error and its cause', () => {
    const secret = 'card-4111-1111'
    const error = captureError(() => decodeJson(Buffer.from(`{"secret": "${secret}", oops}`)))
    expect(error).toBeInstanceOf(MessageDecodeError)
    const cause = (error as Error).cause as Error
    expect(cause).toBeInstanceOf(SyntaxError)
    expect(`${(error as Error).message} ${cause.message}`).not.toContain(secret)
    expect(`${(error as Error).message} ${cause.message}`).not.toContain('oops')
  })
})
