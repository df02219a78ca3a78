import type { ServerMessage } from './connection.js'

/** The message in a text frame, or undefined when it is not a JSON object with a string `type`. */
export function decodeMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== 'string') return undefined
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return undefined
  }
  const candidate = value as Partial<ServerMessage> | null
  return typeof candidate === 'object' && candidate !== null && typeof candidate.type === 'string'
    ? (candidate as ServerMessage)
    : undefined
}
