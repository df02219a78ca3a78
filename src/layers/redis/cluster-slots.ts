/** Redis Cluster's key space: 16 384 hash slots, CRC16 (XMODEM) of the key or of its `{hash tag}`. */
export const CLUSTER_SLOTS = 16_384

const CRC16_TABLE = buildTable()

function buildTable(): Uint16Array {
  const table = new Uint16Array(256)
  for (let n = 0; n < 256; n++) {
    let crc = n << 8
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[n] = crc
  }
  return table
}

/** CRC16/XMODEM, as Redis Cluster's `keyHashSlot`. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0)
  return crc
}

/**
 * The hash slot of `key`, as Redis computes it: only the part between the first `{` and the next `}` counts, when
 * that part is not empty.
 *
 * @example
 * ```ts
 * hashSlot('{asgi:0}chat') === hashSlot('asgi:0') // true
 * ```
 */
export function hashSlot(key: string): number {
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) key = key.slice(open + 1, close)
  }
  return crc16(Buffer.from(key, 'utf8')) % CLUSTER_SLOTS
}

/**
 * The hash tags of a cluster layer's shards: shard `i` of `count` gets the first of `<prefix>:<i>`, `<prefix>:<i>.1`,
 * `<prefix>:<i>.2`… whose slot falls in the i-th of `count` equal runs of the slot space. `redis-cli --cluster
 * create` and most managed clusters give each master one run of slots, so the shards spread over the masters as
 * evenly as `count` allows (12 shards: 4 on each of 3 masters, 3 on each of 4). Every process computes the same tags
 * from the same prefix and count.
 */
export function clusterTags(prefix: string, count: number): string[] {
  const tags: string[] = []
  for (let i = 0; i < count; i++) {
    for (let k = 0; ; k++) {
      const tag = k === 0 ? `${prefix}:${i}` : `${prefix}:${i}.${k}`
      if (Math.floor((hashSlot(tag) * count) / CLUSTER_SLOTS) === i) {
        tags.push(tag)
        break
      }
    }
  }
  return tags
}
