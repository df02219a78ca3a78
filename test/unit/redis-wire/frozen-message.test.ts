import { describe, expect, it } from 'vitest'

import { freezeMessage } from '../../../src/layers/redis/frozen-message.js'

describe('freezeMessage', () => {
  it('copies without the routing keys, frozen all the way down', () => {
    const decoded = { type: 'chat.message', __asgi_group__: 'room', nested: { list: [1, { deep: true }] } }
    const message = freezeMessage(decoded, ['__asgi_group__'])
    expect(message).toEqual({ type: 'chat.message', nested: { list: [1, { deep: true }] } })
    expect(Object.keys(message)).toEqual(['type', 'nested'])
    expect(Object.isFrozen(message)).toBe(true)
    const nested = message.nested as { list: [number, { deep: boolean }] }
    expect(Object.isFrozen(nested)).toBe(true)
    expect(Object.isFrozen(nested.list)).toBe(true)
    expect(Object.isFrozen(nested.list[1])).toBe(true)
    expect(() => {
      ;(message as Record<string, unknown>).type = 'changed'
    }).toThrow(TypeError)
  })

  it('keeps a "__proto__" key as data: the copy’s prototype stays Object.prototype', () => {
    // As msgpack-codec decodes such a key from Python: an own data property.
    const decoded = JSON.parse('{"__proto__": {"polluted": true}, "type": "test.proto"}') as Record<string, unknown>
    const message = freezeMessage(decoded, [])
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype)
    expect(Object.keys(message)).toEqual(['__proto__', 'type'])
    expect(Object.getOwnPropertyDescriptor(message, '__proto__')?.value).toEqual({ polluted: true })
    expect((message as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('adds the history position, frozen, when given', () => {
    const message = freezeMessage({ type: 'x' }, [], { group: 'room', epoch: 'e1', offset: 7 })
    expect(message.__position__).toEqual({ group: 'room', epoch: 'e1', offset: 7 })
    expect(Object.isFrozen(message.__position__)).toBe(true)
  })
})
