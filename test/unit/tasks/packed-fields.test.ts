import { describe, expect, it } from 'vitest'

import { packFields, unpackFields } from '../../../src/layers/redis/tasks/packed-fields.js'

describe('packFields / unpackFields', () => {
  it('round-trips text (as UTF-8), bytes and empty fields, in order', () => {
    const fields = ['ack', Buffer.from([0, 255, 13, 10]), '', 'tâche-1', Buffer.alloc(0), 'x'.repeat(70_000)]
    const packed = packFields(fields)
    expect(packed.readUInt32BE(0)).toBe(3)
    expect(unpackFields(packed).map((field) => field.toString('latin1'))).toEqual(
      fields.map((field) => Buffer.from(field).toString('latin1')),
    )
    expect(unpackFields(packFields([]))).toEqual([])
  })

  it('refuses a truncated buffer rather than reading past it', () => {
    const packed = packFields(['abc', 'def'])
    expect(() => unpackFields(packed.subarray(0, packed.length - 1))).toThrow(RangeError)
    expect(() => unpackFields(packed.subarray(0, 9))).toThrow(RangeError)
  })
})
