import * as zlib from 'node:zlib'

import { describe, expect, it } from 'vitest'

import { InvalidOptionError } from '../../../src/errors.js'
import { consistentHash, crc32 } from '../../../src/layers/redis/shard.js'

describe('consistentHash', () => {
  // channels_redis tests/test_utils.py::test_consistent_hash_result, plus reference/channels.md 2.2.
  it.each([
    ['key_one', 1, 0],
    ['key_two', 1, 0],
    ['key_one', 2, 1],
    ['key_two', 2, 0],
    ['key_one', 10, 6],
    ['key_two', 10, 4],
    ['test-group', 2, 1],
    ['test-group', 10, 8],
  ])('hashes %j onto a ring of %i as Python does -> %i', (value, ringSize, expected) => {
    expect(consistentHash(value, ringSize)).toBe(expected)
    // Python accepts bytes as well as str; the bytes of the utf-8 encoding hash the same.
    expect(consistentHash(new TextEncoder().encode(value), ringSize)).toBe(expected)
  })

  it('hashes the utf-8 bytes of non-ASCII names', () => {
    // Python: binascii.crc32('é'.encode()) == 0x0e048d3e; & 0xfff = 3390; int(3390 / 409.6) == 8
    expect(crc32(Buffer.from('é'))).toBe(0x0e048d3e)
    expect(consistentHash('é', 10)).toBe(8)
    // A ring size that does not divide 4096: int(3651 / (4096 / 3.0)) == 2
    expect(consistentHash('specific.abc!', 3)).toBe(2)
  })

  it('keeps every slot inside the ring', () => {
    for (const ringSize of [2, 3, 7, 10, 4096, 5000]) {
      for (let i = 0; i < 500; i++) {
        const shard = consistentHash(`specific.${i}!`, ringSize)
        expect(shard).toBeGreaterThanOrEqual(0)
        expect(shard).toBeLessThan(ringSize)
      }
    }
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses a ring size of %d', (ringSize) => {
    expect(() => consistentHash('x', ringSize)).toThrow(InvalidOptionError)
  })
})

describe('crc32', () => {
  it('matches the IEEE check value and the empty input', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
  })

  it('agrees with zlib.crc32 where the running Node has it (20.15+)', () => {
    const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32
    if (native === undefined) return
    const data = Buffer.alloc(1000)
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff
    for (let end = 0; end <= data.length; end += 37)
      expect(crc32(data.subarray(0, end))).toBe(native(data.subarray(0, end)))
  })
})
