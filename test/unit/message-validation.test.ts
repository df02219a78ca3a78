import { describe, expect, it } from 'vitest'

import { MessageNotSerializableError } from '../../src/errors.js'
import { MAX_MESSAGE_DEPTH, prepareMessage } from '../../src/layers/message-validation.js'

describe('prepareMessage', () => {
  it('measures the msgpack size channels_redis would write', () => {
    // Channels' vector {"a": true, "b": null, "c": {"d": []}} is 13 bytes; "type": "x" adds 7 inside the same fixmap.
    expect(prepareMessage({ type: 'x', a: true, b: null, c: { d: [] } }, 1000).bytes).toBe(20)
    expect(prepareMessage({ type: 'x', n: 1.5 }, 1000).bytes).toBe(1 + 5 + 2 + 2 + 9)
    expect(prepareMessage({ type: 'x', s: 'é'.repeat(20) }, 1000).bytes).toBe(1 + 5 + 2 + 2 + 2 + 40)
    expect(prepareMessage({ type: 'x', b: new Uint8Array(300) }, 1000).bytes).toBe(1 + 5 + 2 + 2 + 3 + 300)
  })

  it('copies a JSON-parsed __proto__ key as data', () => {
    const parsed = JSON.parse('{"type":"x","__proto__":{"polluted":true}}') as { type: string }
    const { message } = prepareMessage(parsed, 1000)
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype)
    expect(Object.keys(message)).toEqual(['type', '__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('accepts a shared (non-cyclic) object twice and null-prototype objects', () => {
    const shared = { id: 1 }
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' })
    expect(prepareMessage({ type: 'x', a: shared, b: shared, bare }, 1000).message).toEqual({
      type: 'x',
      a: { id: 1 },
      b: { id: 1 },
      bare: { k: 'v' },
    })
  })

  it('normalises a Buffer to a Uint8Array copy', () => {
    const buffer = Buffer.from('hi')
    const { message } = prepareMessage({ type: 'x', buffer }, 1000)
    expect(Object.getPrototypeOf(message.buffer)).toBe(Uint8Array.prototype)
    buffer[0] = 0
    expect(message.buffer).toEqual(new Uint8Array([104, 105]))
  })

  it('refuses sparse arrays, typed arrays other than bytes, symbol keys and deep nesting', () => {
    // eslint-disable-next-line no-sparse-arrays
    const cases: unknown[] = [[1, , 3], new Float64Array(2), { [Symbol('k')]: 1 }]
    for (const value of cases) {
      expect(() => prepareMessage({ type: 'x', value }, 1000)).toThrow(MessageNotSerializableError)
    }
    let deep: Record<string, unknown> = {}
    const root = deep
    for (let i = 0; i < MAX_MESSAGE_DEPTH + 1; i++) deep = deep.next = {}
    expect(() => prepareMessage({ type: 'x', root }, 100_000)).toThrow(/nested deeper than 64/)
  })
})
