/** A short, payload-free description of a value for error messages: a kind or a short literal, never contents. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') return value.length > 60 ? `a string of length ${value.length}` : JSON.stringify(value)
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return typeof value
}
