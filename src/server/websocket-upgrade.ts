import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'

import type { FastifyReply, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'

const NO_HEAD = Buffer.alloc(0)

/** The parts of ws's `WebSocketServer` (`app.websocketServer`) an upgrade uses. */
export interface UpgradingServer {
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (socket: WebSocket, request: IncomingMessage) => void,
  ): void
  emit(event: 'connection', socket: WebSocket, request: IncomingMessage): boolean
}

/**
 * Completes the WebSocket upgrades the application accepted, in Switchyard's own hook, with ws's public
 * `handleUpgrade`. Fastify still routes the upgrade request (the app's hooks run, its own `{ websocket: true }` routes
 * win over the catch-all), but the upgrade is not left to @fastify/websocket's route handler, whose per-socket
 * `error` listener is a closure over fastify's request and reply: an idle socket would keep them (about 3 KiB).
 *
 * Two things are done as @fastify/websocket would: the bytes that came after the request's headers (`head`, which a
 * client normally leaves empty) are passed on, read from the server's own `upgrade` event; and `connection` is
 * emitted on the WebSocket server. One is done as Node does when a response is over: the placeholder response
 * @fastify/websocket gave the TCP socket is detached from it, or the socket would keep it (and, through fastify's
 * listeners on it, the request and reply) for its whole life.
 *
 * @example
 * ```ts
 * const upgrades = new WebsocketUpgrades(app.server, app.websocketServer)
 * // in a preValidation hook, once the application accepted:
 * return upgrades.complete(request, reply, (socket) => server.attachSocket(socket, request.raw))
 * ```
 */
export class WebsocketUpgrades {
  private readonly heads = new WeakMap<IncomingMessage, Buffer>()

  constructor(
    private readonly httpServer: Server,
    private readonly wss: UpgradingServer,
  ) {
    // First, so that the head is known whatever the other `upgrade` listeners do synchronously.
    httpServer.prependListener('upgrade', this.rememberHead)
  }

  /** Hijacks the reply and completes the upgrade; `onSocket` gets the WebSocket once ws has it. */
  complete(request: FastifyRequest, reply: FastifyReply, onSocket: (socket: WebSocket) => void): FastifyReply {
    reply.hijack()
    const raw = request.raw
    const transport = raw.socket
    const response = reply.raw
    if (response.socket === transport) response.detachSocket(transport)
    const head = this.heads.get(raw) ?? NO_HEAD
    this.heads.delete(raw)
    this.wss.handleUpgrade(raw, transport, head, (socket) => {
      this.wss.emit('connection', socket, raw)
      onSocket(socket)
    })
    return reply
  }

  /** Stops listening for upgrades (the server is closing). */
  close(): void {
    this.httpServer.off('upgrade', this.rememberHead)
  }

  private readonly rememberHead = (request: IncomingMessage, _socket: Duplex, head: Buffer): void => {
    if (head.length > 0) this.heads.set(request, head)
  }
}
