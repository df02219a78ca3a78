import type { WebSocket } from 'ws'

/** What the gate reports to its connection. */
export interface OutboundGateEvents {
  /** The client was found slow and is being closed with 1013 (once per socket). */
  onSlowClient(bufferedBytes: number): void
  /** A frame was dropped because the client is slow. */
  onDropped(): void
}

/**
 * Bounds what one socket may hold unsent, so a client that never reads cannot grow server memory. Before each send
 * it checks ws's `bufferedAmount`: when the frame would take it past `maxOutboundBytes`, the frame is dropped, the
 * client closed with 1013 (Try Again Later), and every later frame dropped and counted. The close frame itself
 * waits behind the unread data, so the socket is terminated if it has not closed within `slowClientCloseGraceMs`.
 *
 * A frame larger than the cap still goes to a client that has read everything else (`bufferedAmount` 0), so
 * the buffer peaks at `maxOutboundBytes` plus at most one frame.
 *
 * @example
 * ```ts
 * const gate = new OutboundGate(socket, options, { onSlowClient: (bytes) => log.warn({ bytes }), onDropped })
 * gate.send('hello')
 * socket.on('close', () => gate.dispose())
 * ```
 */
export class OutboundGate {
  private slow = false
  private terminateTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly socket: WebSocket,
    private readonly limits: { readonly maxOutboundBytes: number; readonly slowClientCloseGraceMs: number },
    private readonly events: OutboundGateEvents,
  ) {}

  /** True once the client was closed for not reading. */
  get closedSlow(): boolean {
    return this.slow
  }

  /** Sends the frame; drops it once the client is slow or the socket is no longer open. */
  send(payload: string | Uint8Array): void {
    if (this.slow) {
      this.events.onDropped()
      return
    }
    const socket = this.socket
    if (socket.readyState !== socket.OPEN) return
    const size = payloadBytes(payload)
    const buffered = socket.bufferedAmount
    if (buffered > 0 && buffered + size > this.limits.maxOutboundBytes) {
      this.closeSlowClient(buffered)
      return
    }
    socket.send(payload, { binary: typeof payload !== 'string' })
  }

  /** Clears the terminate timer; call when the socket has closed. */
  dispose(): void {
    clearTimeout(this.terminateTimer)
    this.terminateTimer = undefined
  }

  private closeSlowClient(bufferedBytes: number): void {
    this.slow = true
    this.events.onSlowClient(bufferedBytes)
    this.events.onDropped()
    const socket = this.socket
    socket.close(1013, 'client too slow')
    this.terminateTimer = setTimeout(() => {
      socket.terminate()
    }, this.limits.slowClientCloseGraceMs)
    this.terminateTimer.unref()
  }
}

/** The bytes a frame's payload takes on the wire (UTF-8 for text). */
export function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength
}
