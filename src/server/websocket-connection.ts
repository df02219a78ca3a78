import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'

import type { WebSocket, RawData } from 'ws'

import type {
  InputEvent,
  OutputEvent,
  WebsocketAcceptEvent,
  WebsocketCloseEvent,
  WebsocketScope,
  WebsocketSendEvent,
} from '../application.js'
import { HandshakeTimeoutError, RouteNotFoundError, SlowClientError } from '../errors.js'
import { lazyChild, type Logger } from '../logger.js'
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_INTERNAL_ERROR,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_POLICY_VIOLATION,
} from '../protocol/close-codes.js'
import { WebsocketProtocolState } from '../protocol/websocket-state.js'
import { ApplicationInstance, isCodedError, type ApplicationOutcome } from './application-instance.js'
import { REJECTION_BODIES, rejectionFor, type HandshakeDecision } from './handshake-decision.js'
import type { Heartbeat, HeartbeatMember } from './heartbeat.js'
import { Inbox } from './inbox.js'
import { OutboundGate, payloadBytes } from './outbound-gate.js'
import { websocketScope } from './scope-builder.js'
import { UpgradeSocketWatch } from './upgrade-socket-watch.js'
import type { ResolvedSwitchyardOptions } from './server-options.js'
import type { ServerCounters } from './server-stats.js'

const RESOLVED = Promise.resolve()

/** Frames a busy application may leave unread before the socket is closed with 1008. */
export const MAX_UNREAD_FRAMES = 1000

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly options: ResolvedSwitchyardOptions
  readonly counters: ServerCounters
  readonly heartbeat: Heartbeat
  readonly connectionId: string
  /** Called once the application has finished (or been abandoned) and the socket is gone. */
  readonly onFinished: () => void
}

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
 * @example
 * ```ts
 * const connection = new WebsocketConnection(request.raw, context)
 * const decision = await connection.handshake()
 * if (decision.kind === 'accept') wss.handleUpgrade(request.raw, socket, head, (ws) => connection.attach(ws))
 * ```
 */
export class WebsocketConnection {
  readonly scope: WebsocketScope
  private readonly log: Logger
  private readonly inbox: Inbox<InputEvent>
  private readonly state: WebsocketProtocolState
  private readonly instance: ApplicationInstance
  private readonly options: ResolvedSwitchyardOptions
  private phase: Phase = 'handshaking'
  private decide: ((decision: HandshakeDecision) => void) | undefined
  private readonly decided: Promise<HandshakeDecision>
  private handshakeTimer: NodeJS.Timeout | undefined
  private socket: WebSocket | undefined
  private member: HeartbeatMember | undefined
  /** Events sent between accept and the upgrade completing, flushed by `attach`. */
  private pending: (WebsocketSendEvent | WebsocketCloseEvent)[] = []
  private pendingBytes = 0
  /** Dropped once the socket is ws's or the transport is gone: an open connection keeps no handshake state. */
  private watch: UpgradeSocketWatch | undefined
  /** The upgrade request's TCP socket (ws's transport), kept rather than the request itself. */
  private readonly transport: Socket
  private gate: OutboundGate | undefined
  private inboundOverflowed = false
  private disconnectDelivered = false
  private appDone = false
  private transportDone = false
  private finishing: Promise<void> | undefined
  private reported = false
  private handshakeTimedOut = false

  constructor(
    request: IncomingMessage,
    private readonly context: ConnectionContext,
  ) {
    this.options = context.options
    this.transport = request.socket
    this.log = context.options.logger
    const connId = context.connectionId
    this.scope = websocketScope(request, {
      connectionId: connId,
      logger: lazyChild(this.log, { connId }),
      layer: context.options.layer,
    })
    this.state = new WebsocketProtocolState({ subprotocols: this.scope.subprotocols })
    this.inbox = new Inbox({ maxEvents: MAX_UNREAD_FRAMES, maxBytes: 4 * this.options.maxMessageBytes })
    this.decided = new Promise((resolve) => (this.decide = resolve))
    this.inbox.pushAlways({ type: 'websocket.connect' })
    this.instance = new ApplicationInstance({
      application: this.options.application,
      scope: this.scope,
      inbox: this.inbox,
      // Bound methods, not arrows: under tsx, esbuild's keepNames gives an arrow named by its property an own
      // `name` property, 256 bytes per connection each.
      send: this.send.bind(this),
      onReceived: this.onApplicationReceived.bind(this),
      onCancelled: this.onApplicationCancelled.bind(this),
    })
    void this.instance.finished.then((outcome) => {
      this.onApplicationDone(outcome)
    })
    this.handshakeTimer = setTimeout(() => {
      this.onHandshakeTimeout()
    }, this.options.handshakeTimeoutMs)
    this.watch = new UpgradeSocketWatch(request.socket, () => {
      this.onClientLeftDuringHandshake()
    })
  }

  /** Resolves with the application's answer to the handshake. */
  handshake(): Promise<HandshakeDecision> {
    return this.decided
  }

  /** Wires the upgraded socket: the connection is open. */
  attach(socket: WebSocket): void {
    this.socket = socket
    this.watch?.release()
    this.watch = undefined
    if (this.phase !== 'upgrading') {
      // Shut down between accept and the upgrade completing.
      socket.terminate()
      return
    }
    this.phase = 'open'
    const member: HeartbeatMember = { socket, lastSeenAt: Date.now(), onPingTimeout: this.onPingTimeout.bind(this) }
    this.member = member
    this.context.heartbeat.add(member)
    this.gate = new OutboundGate(
      socket,
      this.options,
      { onSlowClient: this.onSlowClient.bind(this), onDropped: this.onDroppedOutbound.bind(this) },
      this.transport,
    )
    socket.on('message', (data, isBinary) => {
      this.onFrame(data, isBinary)
    })
    socket.on('pong', () => (member.lastSeenAt = Date.now()))
    socket.on('close', (code) => {
      this.onSocketClose(code)
    })
    const pending = this.pending
    this.pending = []
    this.pendingBytes = 0
    for (const event of pending) this.transmit(event)
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
    await Promise.all([this.finish(), socket === undefined ? undefined : this.socketClosed(socket)])
    socket?.terminate()
  }

  /** Resolves when the socket has closed, or after `slowClientCloseGraceMs` (the caller then terminates it). */
  private socketClosed(socket: WebSocket): Promise<void> {
    if (socket.readyState === socket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.slowClientCloseGraceMs)
      function done(): void {
        clearTimeout(timer)
        socket.off('close', done)
        resolve()
      }
      socket.once('close', done)
    })
  }

  /** The application's `send`. Not `async` (once per frame): it does no I/O, so its promise is a settled one. */
  private send(event: OutputEvent): Promise<void> {
    // The common frame checked inline (`state.check` in short): a string `text`, no `bytes`, accepted and open.
    if (
      event.type === 'websocket.send' &&
      typeof event.text === 'string' &&
      (event.bytes === undefined || event.bytes === null) &&
      this.state.accepted &&
      !this.state.closed
    ) {
      this.transmit(event)
      return RESOLVED
    }
    try {
      this.sendNow(event)
      return RESOLVED
    } catch (error) {
      return Promise.reject(error)
    }
  }

  private sendNow(event: OutputEvent): void {
    this.state.check(event)
    const checked = event as WebsocketAcceptEvent | WebsocketSendEvent | WebsocketCloseEvent
    switch (checked.type) {
      case 'websocket.accept':
        this.onAccept(checked)
        return
      case 'websocket.close':
        if (this.phase === 'handshaking') {
          this.settleHandshake({ kind: 'reject', status: 403, body: REJECTION_BODIES[403] })
          this.onTransportClosed(CLOSE_ABNORMAL)
          return
        }
        this.transmit(checked)
        return
      case 'websocket.send':
        this.transmit(checked)
        return
    }
  }

  private onAccept(event: WebsocketAcceptEvent): void {
    if (this.phase !== 'handshaking') return // refused already (timeout, shutdown, client gone)
    this.context.counters.increment('accepted')
    this.phase = 'upgrading'
    this.watch?.handOver()
    this.settleHandshake({ kind: 'accept', subprotocol: event.subprotocol ?? undefined, headers: event.headers ?? [] })
  }

  /** Sends a frame or a close, or queues it until the upgrade completes; drops it once the socket is closing. */
  private transmit(event: WebsocketSendEvent | WebsocketCloseEvent): void {
    if (this.phase === 'upgrading') {
      // Bounded like the socket's own buffer: the upgrade normally completes within a tick of the accept.
      const size = event.type === 'websocket.send' ? payloadBytes(event.text ?? event.bytes ?? '') : 0
      if (this.pendingBytes + size > this.options.maxOutboundBytes) {
        this.context.counters.increment('droppedOutbound')
        return
      }
      this.pendingBytes += size
      this.pending.push(event)
      return
    }
    const socket = this.socket
    if (this.phase !== 'open' || socket === undefined || this.gate === undefined) return
    if (event.type === 'websocket.send') this.gate.send(event.text ?? event.bytes ?? '')
    else if (socket.readyState === socket.OPEN) this.closeSocket(socket, event.code ?? CLOSE_NORMAL, event.reason ?? '')
  }

  /** Only once the application has seen the disconnect do its sends become errors; until then they are dropped. */
  private onApplicationReceived(event: InputEvent): void {
    if (event.type === 'websocket.disconnect') this.state.markDisconnected()
  }

  private onApplicationCancelled(): void {
    this.context.counters.increment('applicationsCancelled')
  }

  private onPingTimeout(): void {
    this.context.counters.increment('pingTimeouts')
    this.log.info({ connId: this.context.connectionId }, 'websocket ping timeout')
    this.socket?.terminate()
  }

  private onSlowClient(bufferedBytes: number): void {
    this.context.counters.increment('closedSlow')
    const err = new SlowClientError(
      `The client is not reading: ${bufferedBytes} bytes are waiting, the cap is maxOutboundBytes ` +
        `(${this.options.maxOutboundBytes}); closed with 1013 and later frames dropped`,
    )
    this.log.warn({ connId: this.context.connectionId, err }, 'slow client closed')
  }

  private onDroppedOutbound(): void {
    this.context.counters.increment('droppedOutbound')
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.member !== undefined) this.member.lastSeenAt = Date.now()
    const socket = this.socket
    if (socket === undefined || this.appDone || this.disconnectDelivered || this.inboundOverflowed) return
    const buffer = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data
    if (buffer.byteLength > this.options.maxMessageBytes) {
      // Only reachable when @fastify/websocket was registered by the app with a larger ws `maxPayload`.
      this.closeSocket(socket, CLOSE_MESSAGE_TOO_BIG, 'message too big')
      return
    }
    const event = isBinary
      ? { type: 'websocket.receive' as const, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length) }
      : { type: 'websocket.receive' as const, text: buffer.toString('utf8') }
    if (!this.inbox.push(event, buffer.byteLength)) {
      this.inboundOverflowed = true
      this.context.counters.increment('inboundOverflows')
      this.log.warn({ connId: this.context.connectionId, unread: this.inbox.length }, 'websocket inbound overflow')
      this.closeSocket(socket, CLOSE_POLICY_VIOLATION, 'too many unread messages')
    }
  }

  private onSocketClose(code: number): void {
    this.gate?.dispose()
    if (this.member !== undefined) this.context.heartbeat.delete(this.member)
    this.onTransportClosed(code)
  }

  /** The client hung up before the upgrade completed. */
  private onClientLeftDuringHandshake(): void {
    if (this.phase === 'handshaking') this.settleHandshake({ kind: 'gone' })
    if (this.phase !== 'open' && this.phase !== 'closed') this.onTransportClosed(CLOSE_ABNORMAL)
  }

  /** The transport is gone: tell the application (once) and give it `applicationCloseTimeoutMs` to finish. */
  private onTransportClosed(code: number): void {
    this.phase = 'closed'
    this.transportDone = true
    this.watch?.stop()
    this.watch = undefined
    if (!this.disconnectDelivered) {
      this.disconnectDelivered = true
      this.inbox.pushAlways({ type: 'websocket.disconnect', code })
    }
    void this.finish()
    this.maybeFinished()
  }

  private finish(): Promise<void> {
    this.finishing ??= this.instance
      .finishWithin(
        this.options.applicationCloseTimeoutMs,
        `it did not finish within applicationCloseTimeoutMs (${this.options.applicationCloseTimeoutMs} ms) after the disconnect`,
      )
      .then((outcome) => {
        if (this.instance.cancelled && !this.handshakeTimedOut) {
          this.log.warn(
            { connId: this.context.connectionId, outcome: outcome.kind },
            'application cancelled after disconnect',
          )
        }
        this.appDone = true
        this.maybeFinished()
      })
    return this.finishing
  }

  private onApplicationDone(outcome: ApplicationOutcome): void {
    this.appDone = true
    const cancelled = this.instance.cancelled && outcome.kind === 'threw'
    if (outcome.kind === 'threw' && !cancelled && !isCodedError(outcome.error, RouteNotFoundError)) {
      this.context.counters.increment('applicationErrors')
      this.log.error({ connId: this.context.connectionId, err: outcome.error }, 'application error')
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

  private onHandshakeTimeout(): void {
    this.handshakeTimer = undefined
    if (this.phase !== 'handshaking') return
    this.context.counters.increment('handshakeTimeouts')
    this.handshakeTimedOut = true
    const err = new HandshakeTimeoutError(
      `The application neither accepted nor closed the handshake within handshakeTimeoutMs ` +
        `(${this.options.handshakeTimeoutMs} ms); refused with 403`,
    )
    this.log.warn({ connId: this.context.connectionId, err }, 'websocket handshake timeout')
    this.settleHandshake({ kind: 'reject', status: 403, body: REJECTION_BODIES[403] })
    this.instance.cancel(
      `it neither accepted nor closed within handshakeTimeoutMs (${this.options.handshakeTimeoutMs} ms)`,
    )
    this.onTransportClosed(CLOSE_ABNORMAL)
  }

  private settleHandshake(decision: HandshakeDecision): void {
    clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    if (decision.kind === 'reject') {
      this.phase = 'rejected'
      this.context.counters.increment('rejected')
    }
    this.decide?.(decision)
    this.decide = undefined
  }

  private maybeFinished(): void {
    if (!this.appDone || !this.transportDone || this.reported) return
    this.reported = true
    this.context.onFinished()
  }
}
