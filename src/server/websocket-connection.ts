import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

import type { RawData, WebSocket } from 'ws'

import {
  SENT,
  type InputEvent,
  type OutputEvent,
  type WebsocketAcceptEvent,
  type WebsocketCloseEvent,
  type WebsocketSendEvent,
} from '../application.js'
import { HandshakeTimeoutError, RouteNotFoundError, SlowClientError } from '../errors.js'
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
} from '../protocol/close-codes.js'
import { WebsocketProtocolState } from '../protocol/websocket-state.js'
import {
  ApplicationInstance,
  isCodedError,
  type ApplicationHost,
  type ApplicationOutcome,
} from './application-instance.js'
import { REJECTION_BODIES, rejectionFor, type HandshakeDecision } from './handshake-decision.js'
import type { ConnectionHost } from './connection-host.js'
import type { HeartbeatMember } from './heartbeat.js'
import { Inbox, type LifecycleObserver } from './inbox.js'
import { OutboundGate, type OutboundGateEvents } from './outbound-gate.js'
import { PendingHandshake, type EarlyEvent, type HandshakeEvents } from './pending-handshake.js'
import { websocketScope } from './scope-builder.js'
import { closedOrGraceOver, frameBytes, listenTo, receiveEvent, type SocketListener } from './socket-events.js'

type Phase = 'handshaking' | 'upgrading' | 'open' | 'rejected' | 'closed'

/**
 * One WebSocket connection between a client and one call of the application, with Daphne's semantics. The
 * application runs before the upgrade completes: `handshake()` resolves with its first answer (`websocket.accept`,
 * or `websocket.close` -> 403, a crash -> 500, `RouteNotFoundError` -> 404, no answer in `handshakeTimeoutMs` ->
 * 403). After `attach(socket)`, frames become `websocket.receive` events, the peer's close becomes
 * `websocket.disconnect { code }`, and the application's `websocket.send`/`websocket.close` become frames.
 *
 * Bounded both ways: unread inbound frames past `MAX_UNREAD_FRAMES` (or 4 x `maxMessageBytes`) close with 1008; a
 * client whose outbound buffer passes `maxOutboundBytes` is closed with 1013 (see `OutboundGate`).
 *
 * Lean when idle (docs/performance/idle-connections.md): the connection is itself what its application instance,
 * inbox, heartbeat, outbound gate and handshake report to, the socket's listeners are shared by every connection,
 * handshake state lives in a `PendingHandshake` dropped once the socket is attached, and the outbound gate is made
 * on the first frame sent.
 *
 * @example
 * ```ts
 * const connection = new WebsocketConnection(request.raw, connectionId, host)
 * const decision = await connection.handshake()
 * if (decision.kind === 'accept') wss.handleUpgrade(request.raw, socket, head, (ws) => connection.attach(ws))
 * ```
 */
export class WebsocketConnection
  implements
    ApplicationHost,
    LifecycleObserver<InputEvent>,
    HeartbeatMember,
    OutboundGateEvents,
    HandshakeEvents,
    SocketListener
{
  /** When a frame or pong last came in (`HeartbeatMember`). */
  lastSeenAt = 0
  private readonly inbox: Inbox<InputEvent>
  private readonly state: WebsocketProtocolState
  private readonly instance: ApplicationInstance
  private phase: Phase = 'handshaking'
  private handshakeState: PendingHandshake | undefined
  /** The handshake's answer until `handshake()` hands it over. */
  private decision: Promise<HandshakeDecision> | undefined
  private socket: WebSocket | undefined
  /** The upgrade request's TCP socket (ws's transport, corked by the gate), kept rather than the request itself. */
  private readonly transport: Socket
  private gate: OutboundGate | undefined
  private inboundOverflowed = false
  private disconnectDelivered = false
  private appDone = false
  private finishing: Promise<void> | undefined
  private reported = false
  private handshakeTimedOut = false

  constructor(
    request: IncomingMessage,
    private readonly connectionId: string,
    private readonly host: ConnectionHost<WebsocketConnection>,
  ) {
    const options = host.options
    this.transport = request.socket
    // Not kept: the scope is the application's. A router hands its application a copy, and the original can go.
    const scope = websocketScope(request, {
      connectionId,
      // The server's logger as it is: consumers bind `connId` when they first log, the server at each line.
      logger: options.logger,
      layer: options.layer,
    })
    this.state = new WebsocketProtocolState({ subprotocols: scope.subprotocols })
    this.inbox = new Inbox(host.inboxLimits)
    this.inbox.observeLifecycle(this)
    this.inbox.pushAlways({ type: 'websocket.connect' })
    this.handshakeState = new PendingHandshake(request.socket, options.handshakeTimeoutMs, this)
    this.decision = this.handshakeState.decided
    this.instance = new ApplicationInstance(this.inbox, this)
    this.instance.start(options.application, scope)
  }

  /** Resolves with the application's answer to the handshake. Called once, by the server. */
  handshake(): Promise<HandshakeDecision> {
    const decision = this.decision
    if (decision === undefined) throw new Error('WebsocketConnection.handshake() was already called')
    this.decision = undefined
    return decision
  }

  /** Wires the upgraded socket: the connection is open. */
  attach(socket: WebSocket): void {
    this.socket = socket
    const early = this.handshakeState?.release() ?? []
    this.handshakeState = undefined
    if (this.phase !== 'upgrading') {
      // Shut down between accept and the upgrade completing.
      socket.terminate()
      return
    }
    this.phase = 'open'
    this.lastSeenAt = Date.now()
    this.host.heartbeat.add(this)
    listenTo(socket, this)
    for (const event of early) this.transmit(event)
    if (this.appDone) this.closeAfterApplication(this.instance.result)
  }

  /**
   * Server shutdown: closes the socket with 1001 (a pending handshake is refused with 503), delivers
   * `websocket.disconnect { code: 1001 }` and waits up to `applicationCloseTimeoutMs` for the application.
   */
  async shutdown(): Promise<void> {
    const socket = this.socket
    if (this.phase === 'handshaking') this.settleHandshake({ kind: 'reject', status: 503, body: REJECTION_BODIES[503] })
    if (this.phase === 'open' && socket !== undefined) {
      this.closeSocket(socket, CLOSE_GOING_AWAY, 'server shutting down')
    }
    if (this.phase !== 'closed') this.onTransportClosed(CLOSE_GOING_AWAY)
    await Promise.all([
      this.finish(),
      socket === undefined ? undefined : closedOrGraceOver(socket, this.host.options.slowClientCloseGraceMs),
    ])
    socket?.terminate()
  }

  /** The application's `send`. Not `async` (once per frame): it does no I/O, so its promise is a settled one. */
  send(event: OutputEvent): Promise<void> {
    // The common frame checked inline (`state.check` in short): a string `text`, no `bytes`, accepted and open.
    if (
      event.type === 'websocket.send' &&
      typeof event.text === 'string' &&
      (event.bytes === undefined || event.bytes === null) &&
      this.state.accepted &&
      !this.state.closed
    ) {
      this.transmit(event)
      return SENT
    }
    try {
      this.state.check(event)
      this.sendChecked(event as WebsocketAcceptEvent | WebsocketSendEvent | WebsocketCloseEvent)
      return SENT
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Only once the application has seen the disconnect do its sends become errors; until then they are dropped. */
  lifecycleReceived(event: InputEvent): void {
    if (event.type === 'websocket.disconnect') this.state.markDisconnected()
  }

  applicationCancelled(): void {
    this.host.counters.increment('applicationsCancelled')
  }

  applicationDone(outcome: ApplicationOutcome): void {
    this.appDone = true
    const cancelled = this.instance.cancelled && outcome.kind === 'threw'
    if (outcome.kind === 'threw' && !cancelled && !isCodedError(outcome.error, RouteNotFoundError)) {
      this.host.counters.increment('applicationErrors')
      this.host.options.logger.error({ connId: this.connectionId, err: outcome.error }, 'application error')
    }
    if (this.phase === 'handshaking') {
      this.settleHandshake(rejectionFor(outcome))
      this.onTransportClosed(CLOSE_ABNORMAL)
    } else if (this.phase === 'open') {
      this.closeAfterApplication(outcome)
    }
    // 'upgrading': attach() closes the socket once it exists.
    this.maybeFinished()
  }

  /** The client answered a ping (a listener shared by every socket calls this). */
  pongReceived(): void {
    this.lastSeenAt = Date.now()
  }

  /** Pings the client if its socket is open (`HeartbeatMember`). */
  ping(): void {
    const socket = this.socket
    // A ping on a socket that is closing throws in some ws versions; it is harmless to skip.
    if (socket === undefined || socket.readyState !== socket.OPEN) return
    // A socket that was sent frames has a gate, which writes the ping's two bytes itself.
    if (this.gate?.ping() !== true) socket.ping()
  }

  onPingTimeout(): void {
    this.host.counters.increment('pingTimeouts')
    this.host.options.logger.info({ connId: this.connectionId }, 'websocket ping timeout')
    this.socket?.terminate()
  }

  onSlowClient(bufferedBytes: number): void {
    const { counters, options } = this.host
    counters.increment('closedSlow')
    const err = new SlowClientError(
      `The client is not reading: ${bufferedBytes} bytes are waiting, the cap is maxOutboundBytes ` +
        `(${options.maxOutboundBytes}); closed with 1013 and later frames dropped`,
    )
    options.logger.warn({ connId: this.connectionId, err }, 'slow client closed')
  }

  onDropped(): void {
    this.host.counters.increment('droppedOutbound')
  }

  handshakeTimeout(): void {
    if (this.phase !== 'handshaking') return
    const { counters, options } = this.host
    counters.increment('handshakeTimeouts')
    this.handshakeTimedOut = true
    const err = new HandshakeTimeoutError(
      `The application neither accepted nor closed the handshake within handshakeTimeoutMs ` +
        `(${options.handshakeTimeoutMs} ms); refused with 403`,
    )
    options.logger.warn({ connId: this.connectionId, err }, 'websocket handshake timeout')
    this.settleHandshake({ kind: 'reject', status: 403, body: REJECTION_BODIES[403] })
    this.instance.cancel(`it neither accepted nor closed within handshakeTimeoutMs (${options.handshakeTimeoutMs} ms)`)
    this.onTransportClosed(CLOSE_ABNORMAL)
  }

  clientLeftDuringHandshake(): void {
    if (this.phase === 'handshaking') this.settleHandshake({ kind: 'gone' })
    if (this.phase !== 'open' && this.phase !== 'closed') this.onTransportClosed(CLOSE_ABNORMAL)
  }

  /** A frame from the client (a listener shared by every socket calls this). */
  frameReceived(data: RawData, isBinary: boolean): void {
    this.lastSeenAt = Date.now()
    const socket = this.socket
    if (socket === undefined || this.appDone || this.disconnectDelivered || this.inboundOverflowed) return
    const buffer = frameBytes(data)
    if (buffer.byteLength > this.host.options.maxMessageBytes) {
      // Only reachable when @fastify/websocket was registered by the app with a larger ws `maxPayload`.
      this.closeSocket(socket, CLOSE_MESSAGE_TOO_BIG, 'message too big')
      return
    }
    if (!this.inbox.push(receiveEvent(buffer, isBinary), buffer.byteLength)) {
      this.inboundOverflowed = true
      this.host.counters.increment('inboundOverflows')
      const unread = this.inbox.length
      this.host.options.logger.warn({ connId: this.connectionId, unread }, 'websocket inbound overflow')
      this.closeSocket(socket, CLOSE_POLICY_VIOLATION, 'too many unread messages')
    }
  }

  /** Client-side faults (bad frames, oversized messages, resets): ws closes the socket itself. */
  socketFailed(err: Error): void {
    this.host.options.logger.debug({ connId: this.connectionId, err }, 'websocket error')
  }

  /** The socket closed (a listener shared by every socket calls this). */
  socketClosed(code: number): void {
    this.gate?.dispose()
    this.host.heartbeat.delete(this)
    this.onTransportClosed(code)
  }

  private sendChecked(event: WebsocketAcceptEvent | WebsocketSendEvent | WebsocketCloseEvent): void {
    switch (event.type) {
      case 'websocket.accept':
        this.onAccept(event)
        return
      case 'websocket.close':
        if (this.phase === 'handshaking') {
          this.settleHandshake({ kind: 'reject', status: 403, body: REJECTION_BODIES[403] })
          this.onTransportClosed(CLOSE_ABNORMAL)
          return
        }
        this.transmit(event)
        return
      case 'websocket.send':
        this.transmit(event)
        return
    }
  }

  private onAccept(event: WebsocketAcceptEvent): void {
    if (this.phase !== 'handshaking') return // refused already (timeout, shutdown, client gone)
    this.host.counters.increment('accepted')
    this.phase = 'upgrading'
    this.handshakeState?.handOver()
    this.settleHandshake({ kind: 'accept', subprotocol: event.subprotocol ?? undefined, headers: event.headers ?? [] })
  }

  /** Sends a frame or a close, or keeps it until the upgrade completes; drops it once the socket is closing. */
  private transmit(event: EarlyEvent): void {
    if (this.phase === 'upgrading') {
      const kept = this.handshakeState?.keep(event, this.host.options.maxOutboundBytes) ?? false
      if (!kept) this.host.counters.increment('droppedOutbound')
      return
    }
    const socket = this.socket
    if (this.phase !== 'open' || socket === undefined) return
    if (event.type === 'websocket.send') {
      this.gate ??= new OutboundGate(socket, this.host.options, this, this.transport)
      this.gate.send(event.text ?? event.bytes ?? '')
    } else if (socket.readyState === socket.OPEN) {
      this.closeSocket(socket, event.code ?? CLOSE_NORMAL, event.reason ?? '')
    }
  }

  /** The transport is gone: tell the application (once) and give it `applicationCloseTimeoutMs` to finish. */
  private onTransportClosed(code: number): void {
    this.phase = 'closed'
    this.handshakeState?.stop()
    this.handshakeState = undefined
    if (!this.disconnectDelivered) {
      this.disconnectDelivered = true
      this.inbox.pushAlways({ type: 'websocket.disconnect', code })
    }
    void this.finish()
    this.maybeFinished()
  }

  private finish(): Promise<void> {
    const { applicationCloseTimeoutMs: timeoutMs, logger } = this.host.options
    this.finishing ??= this.instance
      .finishWithin(
        timeoutMs,
        `it did not finish within applicationCloseTimeoutMs (${timeoutMs} ms) after the disconnect`,
      )
      .then((outcome) => {
        if (this.instance.cancelled && !this.handshakeTimedOut) {
          logger.warn({ connId: this.connectionId, outcome: outcome.kind }, 'application cancelled after disconnect')
        }
        this.appDone = true
        this.maybeFinished()
      })
    return this.finishing
  }

  /** The application ended while the socket is open: 1011 if it crashed, else a normal 1000. */
  private closeAfterApplication(outcome: ApplicationOutcome | undefined): void {
    const socket = this.socket
    if (socket === undefined || socket.readyState !== socket.OPEN) return
    if (outcome?.kind === 'threw') this.closeSocket(socket, CLOSE_INTERNAL_ERROR, 'internal error')
    else this.closeSocket(socket, CLOSE_NORMAL)
  }

  /** Closes after the frames the application sent before it (the gate writes them at the end of the tick). */
  private closeSocket(socket: WebSocket, code: number, reason?: string): void {
    this.gate?.flush()
    socket.close(code, reason)
  }

  private settleHandshake(decision: HandshakeDecision): void {
    if (decision.kind === 'reject') {
      this.phase = 'rejected'
      this.host.counters.increment('rejected')
    }
    this.handshakeState?.settle(decision)
  }

  private maybeFinished(): void {
    // 'closed' is the last phase, entered only once the transport is gone.
    if (!this.appDone || this.phase !== 'closed' || this.reported) return
    this.reported = true
    this.host.connectionFinished(this)
  }
}
