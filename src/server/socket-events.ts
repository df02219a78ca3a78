import type { RawData, WebSocket } from 'ws'

import type { WebsocketReceiveEvent } from '../application.js'

/** What a socket's events go to: its connection. */
export interface SocketListener {
  frameReceived(data: RawData, isBinary: boolean): void
  pongReceived(): void
  socketClosed(code: number): void
  socketFailed(err: Error): void
}

/**
 * Every socket's listener, for the listener functions all sockets share (`this` is the socket): four closures
 * per connection otherwise (docs/performance/idle-connections.md).
 */
const listeners = new WeakMap<WebSocket, SocketListener>()

/** Sends `socket`'s message, pong, close and error events to `listener`, through functions every socket shares. */
export function listenTo(socket: WebSocket, listener: SocketListener): void {
  listeners.set(socket, listener)
  socket.on('message', onMessage)
  socket.on('pong', onPong)
  socket.on('close', onClose)
  socket.on('error', onError)
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  listeners.get(this)?.frameReceived(data, isBinary)
}

function onPong(this: WebSocket): void {
  listeners.get(this)?.pongReceived()
}

function onClose(this: WebSocket, code: number): void {
  listeners.get(this)?.socketClosed(code)
}

function onError(this: WebSocket, err: Error): void {
  listeners.get(this)?.socketFailed(err)
}

/** Resolves when `socket` has closed, or after `graceMs` (the caller then terminates it). */
export function closedOrGraceOver(socket: WebSocket, graceMs: number): Promise<void> {
  if (socket.readyState === socket.CLOSED) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, graceMs)
    function done(): void {
      clearTimeout(timer)
      socket.off('close', done)
      resolve()
    }
    socket.once('close', done)
  })
}

/** A message's payload as one buffer (ws hands over fragments or an ArrayBuffer for some `binaryType`s). */
export function frameBytes(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data
}

/** The `websocket.receive` event for a message: `bytes` (a view, not a copy) if binary, else UTF-8 `text`. */
export function receiveEvent(buffer: Buffer, isBinary: boolean): WebsocketReceiveEvent {
  return isBinary
    ? { type: 'websocket.receive', bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length) }
    : { type: 'websocket.receive', text: buffer.toString('utf8') }
}
