/** A scope field (type, channel name) for an error message: strings quoted and capped, other values by type only. */
export function describeKey(value: unknown): string {
  if (typeof value !== 'string') return `of type ${value === null ? 'null' : typeof value}`
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 97)}...` : value)
}
