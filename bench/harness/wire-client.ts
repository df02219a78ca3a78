/**
 * One load-generator client, whatever the wire: it sends and receives `{ seq, sentAt }` payloads, as plain JSON
 * text frames (`json`) or as Socket.IO events (`socketio`, framing in socketio-wire.ts). Both are raw `ws` sockets,
 * not each system's own client library, so the load generator does the same work for every system.
 */
import WebSocket from 'ws'

import type { Wire } from '../systems/systems.js'
import type { FanoutPayload } from './load-protocol.js'
import { CONNECT_PACKET, PONG_PACKET, decodePacket, encodeEvent } from './socketio-wire.js'

const CONNECT_TIMEOUT_MS = 15_000

/** The event name echo requests and replies use on the `socketio` wire (fan-out messages arrive as `bench`). */
const ECHO_EVENT = 'echo'

export interface WireClient {
  /** Sends an echo request. */
  send(payload: FanoutPayload): void
  /** Sets the one handler for every payload the server sends (echo reply or fan-out message). */
  onPayload(handler: (payload: FanoutPayload) => void): void
  /** Sets the one handler called if the socket closes. */
  onClose(handler: (code: number) => void): void
  terminate(): void
}

function frameText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString()
  return Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString()
}

/** A connected socket and its handlers; `encode` frames an echo request for the wire. */
class Client implements WireClient {
  private payloadHandler: (payload: FanoutPayload) => void = () => undefined
  private closeHandler: (code: number) => void = () => undefined

  constructor(
    private readonly socket: WebSocket,
    private readonly encode: (payload: FanoutPayload) => string,
  ) {
    socket.on('close', (code: number) => {
      this.closeHandler(code)
    })
  }

  deliver(payload: FanoutPayload): void {
    this.payloadHandler(payload)
  }

  send(payload: FanoutPayload): void {
    this.socket.send(this.encode(payload))
  }

  onPayload(handler: (payload: FanoutPayload) => void): void {
    this.payloadHandler = handler
  }

  onClose(handler: (code: number) => void): void {
    this.closeHandler = handler
  }

  terminate(): void {
    this.socket.terminate()
  }
}

/** Plain JSON text frames: what Switchyard, bare ws and Django Channels speak. Ready once the socket is open. */
function jsonHandshake(socket: WebSocket): Promise<Client> {
  const client = new Client(socket, (payload) => JSON.stringify(payload))
  socket.on('message', (data: WebSocket.RawData) => {
    client.deliver(JSON.parse(frameText(data)) as FanoutPayload)
  })
  return Promise.resolve(client)
}

/**
 * Socket.IO: wait for Engine.IO's `0{...}` open packet, send `40` (connect to `/`), ready at the server's
 * `40{"sid":...}`. Every ping `2` is answered `3` for the client's whole life, or the server drops it after
 * pingInterval + pingTimeout (45 s by default).
 */
function socketIoHandshake(socket: WebSocket): Promise<Client> {
  const client = new Client(socket, (payload) => encodeEvent(ECHO_EVENT, payload))
  return new Promise((resolve, reject) => {
    socket.on('message', (data: WebSocket.RawData) => {
      const packet = decodePacket(frameText(data))
      switch (packet.kind) {
        case 'open':
          socket.send(CONNECT_PACKET)
          return
        case 'connected':
          resolve(client)
          return
        case 'ping':
          socket.send(PONG_PACKET)
          return
        case 'event':
          client.deliver(packet.args[0] as FanoutPayload)
          return
        case 'connectError':
          reject(new Error(`Socket.IO refused the connection: ${packet.message}`))
          return
        case 'close':
        case 'disconnected':
          // The server let go: close too, so the workload sees the close instead of waiting for a reply.
          socket.close()
          return
        case 'other':
          return
      }
    })
  })
}

/**
 * Opens a client of `wire` at `url` and resolves once it can send: the WebSocket is open and the wire's own
 * handshake is done. Rejects on error, on close, or after CONNECT_TIMEOUT_MS.
 */
export function openClient(wire: Wire, url: string): Promise<WireClient> {
  const handshake = wire === 'socketio' ? socketIoHandshake : jsonHandshake
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    const fail = (error: Error): void => {
      clearTimeout(timer)
      socket.terminate()
      reject(error)
    }
    const timer = setTimeout(() => {
      fail(new Error(`connecting to ${url} took over ${CONNECT_TIMEOUT_MS} ms`))
    }, CONNECT_TIMEOUT_MS)
    const onClose = (code: number): void => {
      fail(new Error(`${url} closed with ${code} while connecting`))
    }
    socket.once('error', fail)
    socket.once('close', onClose)
    socket.once('open', () => {
      handshake(socket).then(
        (client) => {
          clearTimeout(timer)
          socket.off('error', fail)
          socket.off('close', onClose)
          // A later error is followed by close, which the workload sees; unhandled, it would kill the worker.
          socket.on('error', () => undefined)
          resolve(client)
        },
        (error: unknown) => {
          fail(error instanceof Error ? error : new Error(String(error)))
        },
      )
    })
  })
}
