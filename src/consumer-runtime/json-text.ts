/**
 * `JSON.stringify`, once per deeply frozen value: a group message reaches every member as one shared frozen
 * object, and members that forward it (`sendJson(event)`, Channels' usual pattern) would otherwise encode the
 * same text once each. The text is kept (weakly) only for values that cannot change: plain objects and arrays,
 * frozen all the way down, with data properties only (no getters, no `toJSON`, no class instances, whose internal
 * state freezing does not protect). Anything else is encoded afresh each time, so a mutable object is never served
 * stale text.
 */
const TEXT = new WeakMap<object, string>()
/** Values already found deeply frozen: that is permanent, so each is checked once. */
const FROZEN = new WeakSet<object>()

/** `JSON.stringify(value)`, cached for deeply frozen plain data. */
export function jsonText(value: unknown): string {
  // Member after member forwards the same message: the last cached value is checked first (a compare, where
  // `Object.isFrozen` is a call into the runtime and the WeakMap a hash lookup).
  if (value === lastValue && lastText !== undefined) return lastText
  if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return JSON.stringify(value)
  const cached = TEXT.get(value)
  if (cached !== undefined) {
    lastValue = value
    lastText = cached
    return cached
  }
  const text = JSON.stringify(value)
  if (isDeepFrozenData(value, 0)) {
    TEXT.set(value, text)
    lastValue = value
    lastText = text
  }
  return text
}

/** The last value found cached, with its text: held strongly, one message at most. */
let lastValue: object | undefined
let lastText: string | undefined

/** Deeper than this is not cached (and not walked further). */
const MAX_DEPTH = 64

function isDeepFrozenData(value: object, depth: number): boolean {
  if (FROZEN.has(value)) return true
  if (depth >= MAX_DEPTH || !Object.isFrozen(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  const isArray = Array.isArray(value)
  if (isArray ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) return false
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)
    if (descriptor === undefined || !('value' in descriptor)) return false
    // `toJSON` would let the text differ from the data; arrays' own `length` is the only non-data-looking key.
    if (key === 'toJSON') return false
    const child: unknown = descriptor.value
    if (typeof child === 'object' && child !== null && !isDeepFrozenData(child, depth + 1)) return false
  }
  FROZEN.add(value)
  return true
}
