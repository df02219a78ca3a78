/**
 * Packs strings and byte strings into one Buffer for a task script to split (task-settle.lua, task-start.lua):
 * each field is a 4-byte big-endian length, then its bytes. A batch of tasks as one script argument instead of
 * five or six each: encoding many small arguments was the largest CPU cost of a worker's Redis calls (issue 8).
 *
 * @example
 * ```ts
 * packFields(['ack', claim, 'task-1']) // <00 00 00 03 61 63 6b 00 00 00 5a ...>
 * ```
 */
export function packFields(fields: readonly (string | Buffer)[]): Buffer {
  let size = 4 * fields.length
  for (const field of fields) size += typeof field === 'string' ? Buffer.byteLength(field) : field.length
  const packed = Buffer.allocUnsafe(size)
  let offset = 0
  for (const field of fields) {
    if (typeof field === 'string') {
      const length = packed.write(field, offset + 4)
      packed.writeUInt32BE(length, offset)
      offset += 4 + length
    } else {
      packed.writeUInt32BE(field.length, offset)
      field.copy(packed, offset + 4)
      offset += 4 + field.length
    }
  }
  return packed
}

/** Splits what `packFields` (or a task script, in the same format) packed; the fields are views of `packed`. */
export function unpackFields(packed: Buffer): Buffer[] {
  const fields: Buffer[] = []
  let offset = 0
  while (offset + 4 <= packed.length) {
    const end = offset + 4 + packed.readUInt32BE(offset)
    if (end > packed.length) throw new RangeError('a packed field runs past the end of its buffer')
    fields.push(packed.subarray(offset + 4, end))
    offset = end
  }
  if (offset !== packed.length) throw new RangeError('packed fields end in a partial length')
  return fields
}
