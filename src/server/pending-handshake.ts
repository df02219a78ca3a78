import type { Duplex } from 'node:stream'

import type { WebsocketCloseEvent, WebsocketSendEvent } from '../application.js'
import type { HandshakeDecision } from './handshake-decision.js'
import { payloadBytes } from './outbound-gate.js'
import { UpgradeSocketWatch } from './upgrade-socket-watch.js'

/** What a pending handshake reports to its connection. */
export interface HandshakeEvents {
  /** The application neither accepted nor refused within the timeout. */
  handshakeTimeout(): void
  /** The client hung up before the upgrade completed. */
  clientLeftDuringHandshake(): void
}

/** An event the application sent between its accept and the upgrade completing. */
export type EarlyEvent = WebsocketSendEvent | WebsocketCloseEvent

/**
 * What a WebSocket connection holds only while the application decides its handshake and ws completes the upgrade:
 * the decision the plugin awaits, the handshake timeout, the watch on the TCP socket that notices a client hanging
 * up, and the events sent between the accept and the socket being there. The connection drops it once the socket is
 * attached or the transport is gone, so an open connection keeps no handshake state.
 *
 * @example
 * ```ts
 * const handshake = new PendingHandshake(request.socket, 5_000, connection)
 * handshake.settle({ kind: 'accept', subprotocol: undefined, headers: [] })
 * const early = handshake.release() // the upgrade completed: send these first
 * ```
 */
export class PendingHandshake {
  /** Resolves with the application's answer. */
  readonly decided: Promise<HandshakeDecision>
  private decide: ((decision: HandshakeDecision) => void) | undefined
  private timer: NodeJS.Timeout | undefined
  private watch: UpgradeSocketWatch | undefined
  private early: EarlyEvent[] | undefined
  private earlyBytes = 0

  constructor(transport: Duplex, timeoutMs: number, events: HandshakeEvents) {
    this.decided = new Promise((resolve) => {
      this.decide = resolve
    })
    this.timer = setTimeout(() => {
      this.timer = undefined
      events.handshakeTimeout()
    }, timeoutMs)
    this.watch = new UpgradeSocketWatch(transport, () => {
      events.clientLeftDuringHandshake()
    })
  }

  /** Resolves the decision (the first call wins) and stops the timeout. */
  settle(decision: HandshakeDecision): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.decide?.(decision)
    this.decide = undefined
  }

  /** Accepted: stops reading the TCP socket and puts back what was read, for ws. */
  handOver(): void {
    this.watch?.handOver()
  }

  /**
   * Keeps an event until the upgrade completes, bounded like the socket's own buffer (the upgrade normally completes
   * within a tick of the accept); false, and nothing kept, past `maxBytes`.
   */
  keep(event: EarlyEvent, maxBytes: number): boolean {
    const size = event.type === 'websocket.send' ? payloadBytes(event.text ?? event.bytes ?? '') : 0
    if (this.earlyBytes + size > maxBytes) return false
    this.earlyBytes += size
    ;(this.early ??= []).push(event)
    return true
  }

  /** The upgrade completed: ws reads the socket from now on. Returns the kept events, to be sent first. */
  release(): readonly EarlyEvent[] {
    this.watch?.release()
    this.watch = undefined
    const early = this.early ?? []
    this.early = undefined
    return early
  }

  /** Refused, or the client is gone: stops the timeout and the watch. Idempotent. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.watch?.stop()
    this.watch = undefined
  }
}
