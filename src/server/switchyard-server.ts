import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

import type { WebSocket } from 'ws'

import { CLOSE_INTERNAL_ERROR } from '../protocol/close-codes.js'
import type { HandshakeDecision } from './handshake-decision.js'
import { Heartbeat } from './heartbeat.js'
import { HttpExchange } from './http-exchange.js'
import type { ResolvedSwitchyardOptions } from './server-options.js'
import { ServerCounters, type ServerStats } from './server-stats.js'
import { MAX_UNREAD_FRAMES, type ConnectionHost } from './connection-host.js'
import { WebsocketConnection } from './websocket-connection.js'

type ProtocolHandler = (protocols: Set<string>, request: IncomingMessage) => string | false

/** The parts of ws's `WebSocketServer` the handshake hooks use. */
export interface UpgradeServer {
  readonly options: { handleProtocols?: ProtocolHandler | null | undefined }
  on(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): unknown
  off(event: 'headers', listener: (headers: string[], request: IncomingMessage) => void): unknown
}

/**
 * The runtime behind `app.switchyard`: live connections, counters, the shared heartbeat, and the hooks that let the
 * application decide a WebSocket handshake before ws completes it (`handleProtocols` and the `headers` event look
 * up the accepted connection by its request). Fastify-independent, so the plugin stays wiring only.
 *
 * @example
 * ```ts
 * const server = new SwitchyardServer(resolveServerOptions({ application }))
 * server.attachTo(app.websocketServer)
 * const decision = await server.handshake(request.raw) // before the upgrade
 * server.stats() // { connections: 1, accepted: 1, ... }
 * ```
 */
export class SwitchyardServer {
  readonly heartbeat: Heartbeat
  private readonly counters = new ServerCounters()
  private readonly websockets = new Set<WebsocketConnection>()
  private readonly exchanges = new Set<HttpExchange>()
  /** Accepted handshakes whose upgrade ws has not completed yet, by request. */
  private readonly upgrading = new WeakMap<IncomingMessage, WebsocketConnection>()
  private readonly accepted = new WeakMap<IncomingMessage, Extract<HandshakeDecision, { kind: 'accept' }>>()
  private readonly idPrefix = randomBytes(4).toString('hex')
  private nextId = 0
  private closing: Promise<void> | undefined
  private detach: (() => void) | undefined

  /** What every connection shares: one object, rather than callbacks and references per connection. */
  private readonly connectionHost: ConnectionHost<WebsocketConnection>

  constructor(readonly options: ResolvedSwitchyardOptions) {
    this.heartbeat = new Heartbeat(options)
    const websockets = this.websockets
    this.connectionHost = {
      options,
      counters: this.counters,
      heartbeat: this.heartbeat,
      inboxLimits: Object.freeze({ maxEvents: MAX_UNREAD_FRAMES, maxBytes: 4 * options.maxMessageBytes }),
      connectionFinished: (connection) => {
        websockets.delete(connection)
      },
    }
  }

  stats(): ServerStats {
    return this.counters.snapshot({ connections: this.websockets.size, httpRequests: this.exchanges.size })
  }

  /** True once `shutdown()` was called. */
  get shuttingDown(): boolean {
    return this.closing !== undefined
  }

  /**
   * Chooses the accepted subprotocol and adds the accept headers of our connections on `wss`; requests that are not
   * ours keep the server's previous subprotocol choice (ws's default: the client's first).
   */
  attachTo(wss: UpgradeServer): void {
    const options = wss.options
    const previous = options.handleProtocols ?? undefined
    const handleProtocols: ProtocolHandler = (protocols, request) => {
      const decision = this.accepted.get(request)
      if (decision !== undefined) return decision.subprotocol ?? false
      return previous === undefined ? (protocols.values().next().value ?? false) : previous(protocols, request)
    }
    options.handleProtocols = handleProtocols
    const onHeaders = (lines: string[], request: IncomingMessage): void => {
      const decision = this.accepted.get(request)
      if (decision !== undefined) for (const [name, value] of decision.headers) lines.push(`${name}: ${value}`)
    }
    wss.on('headers', onHeaders)
    this.detach = () => {
      wss.off('headers', onHeaders)
      if (options.handleProtocols === handleProtocols) options.handleProtocols = previous ?? null
    }
  }

  /** Runs the application on an upgrade request until it accepts or refuses. */
  async handshake(request: IncomingMessage): Promise<HandshakeDecision> {
    if (this.closing !== undefined) return { kind: 'reject', status: 503, body: 'Service Unavailable' }
    const connection = new WebsocketConnection(request, this.newConnectionId(), this.connectionHost)
    this.websockets.add(connection)
    const decision = await connection.handshake()
    if (decision.kind === 'accept') {
      this.upgrading.set(request, connection)
      this.accepted.set(request, decision)
    }
    return decision
  }

  /** Hands the upgraded socket to the connection that accepted it. */
  attachSocket(socket: WebSocket, request: IncomingMessage): void {
    const connection = this.upgrading.get(request)
    this.upgrading.delete(request)
    this.accepted.delete(request)
    if (connection === undefined) {
      socket.close(CLOSE_INTERNAL_ERROR, 'no application for this socket')
      return
    }
    connection.attach(socket)
  }

  /** Runs the application on an HTTP request; the response is written by the exchange. */
  serveHttp(request: IncomingMessage, response: ServerResponse, body: Uint8Array): void {
    const exchange: HttpExchange = new HttpExchange(request, response, body, {
      options: this.options,
      counters: this.counters,
      connectionId: this.newConnectionId(),
      onFinished: () => this.exchanges.delete(exchange),
    })
    this.exchanges.add(exchange)
    exchange.start()
  }

  /**
   * Graceful stop: every socket gets 1001, every application its disconnect event and up to
   * `applicationCloseTimeoutMs` to finish (then it is cancelled); pending handshakes are refused with 503.
   * Idempotent: later calls return the same promise.
   */
  shutdown(): Promise<void> {
    this.closing ??= (async () => {
      const started = Date.now()
      const live = this.websockets.size + this.exchanges.size
      await Promise.all([
        ...[...this.websockets].map((connection) => connection.shutdown()),
        ...[...this.exchanges].map((exchange) => exchange.shutdown()),
      ])
      this.heartbeat.stop()
      this.detach?.()
      this.options.logger.info({ connections: live, durationMs: Date.now() - started }, 'switchyard server stopped')
    })()
    return this.closing
  }

  private newConnectionId(): string {
    this.nextId++
    return `${this.idPrefix}-${this.nextId.toString(36)}`
  }
}
