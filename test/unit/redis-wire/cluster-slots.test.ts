import { describe, expect, it } from 'vitest'

import { CLUSTER_SLOTS, clusterTags, crc16, hashSlot } from '../../../src/layers/redis/cluster-slots.js'

/** `start-end` slot runs of `masters` masters as `redis-cli --cluster create` assigns them (Redis 7). */
function createdRuns(masters: number): [number, number][] {
  const per = CLUSTER_SLOTS / masters
  return Array.from({ length: masters }, (_, i) => [Math.round(i * per), Math.round((i + 1) * per) - 1])
}

describe('hashSlot', () => {
  // Each value is what `CLUSTER KEYSLOT <key>` answered on a cluster-enabled redis-server 7.
  it.each([
    ['foo', 12182],
    ['123456789', 12739],
    ['user1000', 3443],
    ['bar', 5061],
    ['é', 10180],
    ['', 0],
    ['asgi:0', 14564],
  ])('hashes %j to slot %i, as Redis does', (key, slot) => {
    expect(hashSlot(key)).toBe(slot)
  })

  it('hashes only the hash tag: the part between the first { and the next }', () => {
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'))
    expect(hashSlot('{user1000}.followers')).toBe(3443)
    expect(hashSlot('foo{bar}{zap}')).toBe(hashSlot('bar')) // the first tag only
    expect(hashSlot('foo{{bar}}zap')).toBe(hashSlot('{bar')) // 4015: from the first {, to the first } after it
    expect(hashSlot('{asgi:0}chat')).toBe(hashSlot('asgi:0'))
  })

  it('hashes the whole key when the tag is empty or never closed', () => {
    expect(hashSlot('{}foo')).toBe(9500)
    expect(hashSlot('foo{}{bar}')).toBe(8363) // the empty first tag wins: not the slot of bar
    expect(hashSlot('foo{}{bar}')).not.toBe(hashSlot('bar'))
    expect(hashSlot('{bar')).toBe(4015)
  })

  it('is CRC16/XMODEM of the bytes, modulo 16 384', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3) // the CRC16/XMODEM check value
    expect(crc16(new Uint8Array())).toBe(0)
    expect(CLUSTER_SLOTS).toBe(16_384)
  })
})

describe('clusterTags', () => {
  it.each([1, 2, 3, 12, 100, 1024])('gives %i shards distinct slots, shard i in the i-th equal run', (count) => {
    const tags = clusterTags('asgi', count)
    expect(tags).toHaveLength(count)
    const slots = tags.map(hashSlot)
    expect(new Set(slots).size).toBe(count)
    slots.forEach((slot, i) => {
      expect(slot).toBeGreaterThanOrEqual(Math.ceil((i * CLUSTER_SLOTS) / count))
      expect(slot).toBeLessThan((i + 1) * (CLUSTER_SLOTS / count))
    })
    tags.forEach((tag, i) => {
      expect(tag === `asgi:${i}` || tag.startsWith(`asgi:${i}.`), tag).toBe(true)
    })
  })

  it('is the same in every process for the same prefix and count, and differs by prefix', () => {
    expect(clusterTags('asgi', 12)).toEqual(clusterTags('asgi', 12))
    expect(clusterTags('chat', 12)).toEqual(clusterTags('chat', 12))
    expect(clusterTags('asgi', 12)).not.toEqual(clusterTags('chat', 12))
    // The first shards of a larger count are not those of a smaller: every process must use the same count.
    expect(clusterTags('asgi', 12).slice(0, 6)).not.toEqual(clusterTags('asgi', 6))
  })

  it('keeps a tag whose slot already falls in its run, and looks further only when it does not', () => {
    const tags = clusterTags('asgi', 12)
    // asgi:0 hashes to 14564, in the last run: shard 0 needs a suffix, shard 11 none.
    expect(tags[0]).not.toBe('asgi:0')
    expect(tags[0]).toMatch(/^asgi:0\.\d+$/)
    expect(clusterTags('asgi', 1)).toEqual(['asgi:0'])
  })

  it.each([
    [3, 4],
    [4, 3],
    [6, 2],
  ])('spreads 12 shards over %i masters of a created cluster, %i on each', (masters, each) => {
    const slots = clusterTags('asgi', 12).map(hashSlot)
    const perMaster = createdRuns(masters).map(
      ([start, end]) => slots.filter((slot) => slot >= start && slot <= end).length,
    )
    expect(perMaster).toEqual(Array.from({ length: masters }, () => each))
  })
})
