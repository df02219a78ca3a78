/**
 * The few Engine.IO v4 / Socket.IO v5 packets a load-generator client needs over a WebSocket transport, as text
 * frames: one frame is one Engine.IO packet (the type digit, then data), and a Socket.IO packet is the data of an
 * Engine.IO `4` (message): its own type digit, then JSON. Only the main namespace `/`, no acks, no binary.
 * Spec: https://socket.io/docs/v4/engine-io-protocol/ and https://socket.io/docs/v4/socket-io-protocol/
 */

/** Engine.IO `4` message carrying Socket.IO `0` CONNECT to `/`, no auth. */
export const CONNECT_PACKET = '40'
/** Engine.IO `3` pong: the answer to the server's `2` ping (in v4 the server pings, the client answers). */
export const PONG_PACKET = '3'

export type SocketIoPacket =
  | { readonly kind: 'open' }
  | { readonly kind: 'ping' }
  | { readonly kind: 'close' }
  | { readonly kind: 'connected' }
  | { readonly kind: 'connectError'; readonly message: string }
  | { readonly kind: 'disconnected' }
  | { readonly kind: 'event'; readonly name: string; readonly args: readonly unknown[] }
  | { readonly kind: 'other'; readonly text: string }

/** `42["name",...args]`: an Engine.IO message carrying a Socket.IO `2` EVENT to `/`. */
export function encodeEvent(name: string, ...args: readonly unknown[]): string {
  return `42${JSON.stringify([name, ...args])}`
}

export function decodePacket(text: string): SocketIoPacket {
  switch (text[0]) {
    case '0':
      return { kind: 'open' }
    case '1':
      return { kind: 'close' }
    case '2':
      return { kind: 'ping' }
    case '4':
      return decodeSocketIo(text)
    default:
      return { kind: 'other', text }
  }
}

function decodeSocketIo(text: string): SocketIoPacket {
  switch (text[1]) {
    case '0':
      return { kind: 'connected' }
    case '1':
      return { kind: 'disconnected' }
    case '2': {
      // No namespace prefix (it is `/`) and no ack id (the server asks none), so the JSON array follows at once.
      const data = JSON.parse(text.slice(2)) as unknown
      if (!Array.isArray(data) || typeof data[0] !== 'string') throw new Error(`malformed Socket.IO event ${text}`)
      const [name, ...args] = data as [string, ...unknown[]]
      return { kind: 'event', name, args }
    }
    case '4': {
      const { message } = JSON.parse(text.slice(2)) as { message?: unknown }
      return { kind: 'connectError', message: String(message) }
    }
    default:
      return { kind: 'other', text }
  }
}
