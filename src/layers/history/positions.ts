import { InvalidOptionError } from '../../errors.js'

/**
 * The reserved message key that carries a history group message's position, as `__asgi_channel__` carries
 * channels_redis' routing: the layer sets it, a sender may not.
 */
export const POSITION_KEY = '__position__'

/**
 * Where a group's history stands: `offset` counts the group's messages (+1 each, the first is 1; 0 before any),
 * and `epoch` names the history those offsets belong to. A new epoch means the history was lost (expired, flushed,
 * a Redis restarted without persistence): offsets of another epoch say nothing about this one.
 */
export interface StreamPosition {
  readonly offset: number
  readonly epoch: string
}

/** A message's place in its group's history: what `__position__` holds. */
export interface MessagePosition extends StreamPosition {
  readonly group: string
}

/** Longest epoch accepted back from a client: ours are 6 to 16 characters. */
const MAX_EPOCH_LENGTH = 64

/**
 * The position a history group message carries, or undefined for any other message (a plain send, a group
 * without history, a malformed value).
 *
 * @example
 * ```ts
 * const position = positionOf(message)
 * if (position !== undefined) lastSeen.set(position.group, position)
 * ```
 */
export function positionOf(message: Readonly<Record<string, unknown>>): MessagePosition | undefined {
  const value = message[POSITION_KEY]
  if (typeof value !== 'object' || value === null) return undefined
  const { group, offset, epoch } = value as Readonly<Record<string, unknown>>
  if (typeof group !== 'string' || !isOffset(offset) || typeof epoch !== 'string') return undefined
  return { group, offset, epoch }
}

/** Validates a `recover` position (it usually comes from a browser): a safe non-negative offset and a short epoch. */
export function assertStreamPosition(option: string, value: unknown): StreamPosition {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(option, 'a position { offset, epoch }', value)
  }
  const { offset, epoch } = value as Readonly<Record<string, unknown>>
  if (!isOffset(offset)) throw new InvalidOptionError(`${option}.offset`, 'a non-negative integer', offset)
  if (typeof epoch !== 'string' || epoch.length > MAX_EPOCH_LENGTH) {
    throw new InvalidOptionError(`${option}.epoch`, `a string of at most ${MAX_EPOCH_LENGTH} characters`, epoch)
  }
  return { offset, epoch }
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
