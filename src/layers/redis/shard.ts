import { InvalidOptionError } from '../../errors.js'

const CRC_TABLE = buildTable()

function buildTable(): Uint32Array {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  return table
}

/**
 * channels_redis's `_consistent_hash` (reference/channels.md 2.2): which of `ringSize` Redis hosts holds a key.
 * `crc32(utf-8(value)) & 0xfff` spreads names over 4096 slots; the slots are cut into `ringSize` equal runs.
 * Every peer, Python or Node, must list the hosts in the same order for their shards to agree.
 *
 * @example
 * ```ts
 * consistentHash('test-group', 10) // 8, as in Python
 * ```
 */
export function consistentHash(value: string | Uint8Array, ringSize: number): number {
  if (!Number.isSafeInteger(ringSize) || ringSize < 1) {
    throw new InvalidOptionError('ringSize', 'a positive integer (the number of Redis hosts)', ringSize)
  }
  if (ringSize === 1) return 0
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  const slot = crc32(bytes) & 0xfff
  // The same float division Python does: int(bigval / (4096 / float(ring_size))).
  return Math.floor(slot / (4096 / ringSize))
}

/** CRC-32 (IEEE 802.3, reflected, as zlib's and Python's `binascii.crc32`); Node 20 has no zlib.crc32. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
