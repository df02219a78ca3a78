import { describe, expect, it } from 'vitest'

import { mulberry32, parseSeed, seededRandom } from '../support/seeded-random.js'

const draw = (next: () => number, count: number): number[] => Array.from({ length: count }, next)

describe('seededRandom, the replayable randomness of race and fuzz tests', () => {
  it('draws the same sequence from the same seed and stream, and another from another', () => {
    expect(draw(seededRandom(42).next, 20)).toEqual(draw(seededRandom(42).next, 20))
    expect(draw(seededRandom(42, 'a').next, 20)).toEqual(draw(seededRandom(42, 'a').next, 20))
    expect(draw(seededRandom(42, 'a').next, 20)).not.toEqual(draw(seededRandom(42, 'b').next, 20))
    expect(draw(seededRandom(42).next, 20)).not.toEqual(draw(seededRandom(43).next, 20))
  })

  it('is mulberry32: the first outputs of the reference C implementation, over 2^32', () => {
    const words = (seed: number) => draw(mulberry32(seed), 3).map((x) => x * 2 ** 32)
    expect(words(0)).toEqual([1_144_304_738, 1_416_247, 958_946_056])
    expect(words(1)).toEqual([2_693_262_067, 11_749_833, 2_265_367_787])
  })

  it('stays in [0, 1) and spreads int(n) over every value of [0, n)', () => {
    const random = seededRandom(7)
    const values = draw(random.next, 10_000)
    expect(values.every((x) => x >= 0 && x < 1)).toBe(true)
    const counts = new Map<number, number>()
    for (let i = 0; i < 12_000; i++) {
      const n = random.int(12)
      counts.set(n, (counts.get(n) ?? 0) + 1)
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    // 1 000 expected each; a fair generator stays within ±20% at this size.
    expect([...counts.values()].every((count) => count > 800 && count < 1_200)).toBe(true)
  })

  it('takes SWITCHYARD_TEST_SEED only as a 32-bit unsigned integer', () => {
    expect(parseSeed(undefined)).toBeUndefined()
    expect(parseSeed('')).toBeUndefined()
    expect(parseSeed('12345')).toBe(12_345)
    expect(parseSeed('4294967295')).toBe(4_294_967_295)
    for (const bad of ['-1', '1.5', '4294967296', 'abc', '0x']) {
      expect(() => parseSeed(bad)).toThrow(/`SWITCHYARD_TEST_SEED` to be an integer from 0 to 4294967295/)
    }
  })
})
