import { InvalidOptionError } from '../errors.js'
import type { Message } from '../layers/channel-layer.js'
import { DEFAULT_LAYER_OPTIONS } from '../layers/layer-options.js'
import { prepareMessage } from '../layers/message-validation.js'

/**
 * Checks a message the task store keeps as JSON until later (a schedule's, a flow step's) as a send would, and
 * refuses bytes, which JSON would turn into something else. `what` names the thing in the error (`a schedule`).
 */
export function prepareStoredMessage(message: unknown, option: string, what: string): Message {
  const prepared = prepareMessage(message, DEFAULT_LAYER_OPTIONS.maxMessageBytes).message
  if (hasBytes(prepared)) {
    throw new InvalidOptionError(option, `JSON data only (${what} is stored as JSON): no bytes`, message)
  }
  return prepared
}

function hasBytes(value: unknown): boolean {
  if (value instanceof Uint8Array) return true
  if (Array.isArray(value)) return value.some(hasBytes)
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasBytes)
  return false
}
