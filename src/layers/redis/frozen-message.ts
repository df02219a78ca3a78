import type { Message } from '../channel-layer.js'
import { POSITION_KEY, type MessagePosition } from '../history/positions.js'

/**
 * A frozen copy of a decoded message without the layer's routing keys (`drop`), with its `__position__` when it
 * has one: one decoded message may reach several local consumers, none of which may change it for the others.
 */
export function freezeMessage(
  decoded: Readonly<Record<string, unknown>>,
  drop: readonly string[],
  position?: MessagePosition,
): Message {
  const copy: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(decoded)) {
    if (drop.includes(key)) continue
    // Assigned, a fast property; `__proto__` only is defined, so that it stays data and never sets the prototype.
    if (key === '__proto__')
      Object.defineProperty(copy, key, { value: deepFreeze(value), enumerable: true, writable: true })
    else copy[key] = deepFreeze(value)
  }
  if (position !== undefined) {
    Object.defineProperty(copy, POSITION_KEY, { value: Object.freeze(position), enumerable: true, writable: true })
  }
  return Object.freeze(copy) as Message
}

function deepFreeze(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value
  for (const child of Object.values(value)) deepFreeze(child)
  return Object.freeze(value)
}
