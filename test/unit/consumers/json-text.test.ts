import { describe, expect, it } from 'vitest'

import { jsonText } from '../../../src/consumer-runtime/json-text.js'
import { prepareMessage } from '../../../src/layers/message-validation.js'

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

describe('jsonText (encode once per deeply frozen value)', () => {
  it('encodes like JSON.stringify', () => {
    for (const value of [null, 1, 'x', [1, { a: 'b' }], { a: [1, 2], b: null }, deepFreeze({ n: { m: [1] } })]) {
      expect(jsonText(value)).toBe(JSON.stringify(value))
    }
  })

  it('serves a layer message (a deep frozen copy) the same string every time', () => {
    const { message } = prepareMessage({ type: 'chat.message', text: 'hi', meta: { at: 1 } }, 1_000_000)
    const first = jsonText(message)
    expect(first).toBe(JSON.stringify(message))
    // The very same string instance: the second call did not encode again.
    expect(Object.is(jsonText(message), first)).toBe(true)
  })

  it('never serves stale text for an object that can still change', () => {
    const mutable: Record<string, unknown> = { n: 1 }
    expect(jsonText(mutable)).toBe('{"n":1}')
    mutable.n = 2
    expect(jsonText(mutable)).toBe('{"n":2}')

    // Frozen on top, mutable underneath: not cacheable.
    const inner = { n: 1 }
    const shallow = Object.freeze({ inner })
    expect(jsonText(shallow)).toBe('{"inner":{"n":1}}')
    inner.n = 2
    expect(jsonText(shallow)).toBe('{"inner":{"n":2}}')
  })

  it('does not cache values whose text can differ from their data: getters, toJSON, class instances', () => {
    let count = 0
    const withGetter = Object.freeze({
      get n() {
        return ++count
      },
    })
    expect(jsonText(withGetter)).toBe('{"n":1}')
    expect(jsonText(withGetter)).toBe('{"n":2}')

    let version = 0
    const withToJson = Object.freeze({ toJSON: () => ({ version: ++version }) })
    expect(jsonText(withToJson)).toBe('{"version":1}')
    expect(jsonText(withToJson)).toBe('{"version":2}')

    const date = Object.freeze(new Date(0))
    expect(jsonText(date)).toBe(JSON.stringify(new Date(0)))
    Date.prototype.setTime.call(date, 1000) // freezing does not protect a Date's internal time
    expect(jsonText(date)).toBe(JSON.stringify(new Date(1000)))

    const frozenWithDate = Object.freeze({ when: Object.freeze(new Date(0)) })
    expect(jsonText(frozenWithDate)).toBe('{"when":"1970-01-01T00:00:00.000Z"}')
    Date.prototype.setTime.call(frozenWithDate.when, 2000)
    expect(jsonText(frozenWithDate)).toBe('{"when":"1970-01-01T00:00:02.000Z"}')
  })

  it('does not cache a message carrying bytes, which freezing cannot protect', () => {
    const bytes = new Uint8Array([1, 2])
    const message = Object.freeze({ type: 'x.y', bytes })
    expect(jsonText(message)).toBe('{"type":"x.y","bytes":{"0":1,"1":2}}')
    bytes[0] = 9
    expect(jsonText(message)).toBe('{"type":"x.y","bytes":{"0":9,"1":2}}')
  })
})
