import type { Writable } from 'node:stream'

import type { WebSocket } from 'ws'

import { SlowClientError } from '../errors.js'

/** What the gate reports to its connection. */
export interface OutboundGateEvents {
  /** The client was found slow and is being closed with 1013 (once per socket). */
  onSlowClient(bufferedBytes: number): void
  /** A frame was dropped because the client is slow. */
  onDropped(): void
}

/**
 * Bounds what one socket may hold unsent, so a client that never reads cannot grow server memory. Before each send
 * it checks what waits (ws's `bufferedAmount` plus this tick's frames): when the frame would take it past
 * `maxOutboundBytes`, the frame is dropped, the client closed with 1013 (Try Again Later), and every later frame
 * dropped and counted. The close frame itself waits behind the unread data, so the socket is terminated if it has
 * not closed within `slowClientCloseGraceMs`.
 *
 * A frame larger than the cap still goes to a client that has read everything else (nothing waiting), so the
 * buffer peaks at `maxOutboundBytes` plus at most one frame.
 *
 * Frames sent in one tick leave together at its end (`process.nextTick`), once the handlers running in this tick
 * (every member of a group draining its buffered messages) are done: the socket is corked around them, so a burst
 * to one client costs one `writev` system call instead of one per frame (uWebSockets' corking), and until then a
 * frame is one array slot, not ws's framing objects held across the burst (which a garbage collection meanwhile
 * would copy). A lone frame waits for nothing but the end of the current tick. Call `flush()` before closing the
 * socket, so the close frame follows them.
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
  /** This tick's frames, written by `flush()`. */
  private queued: (string | Uint8Array)[] = []
  /** An upper bound of the bytes in `queued` (`maxPayloadBytes`). */
  private queuedBound = 0
  private terminateTimer: NodeJS.Timeout | undefined

  /** `transport` is the TCP socket under `socket` (the upgrade request's), corked per flush; omit it to not cork. */
  constructor(
    private readonly socket: WebSocket,
    private readonly limits: { readonly maxOutboundBytes: number; readonly slowClientCloseGraceMs: number },
    private readonly events: OutboundGateEvents,
    private readonly transport?: Writable,
  ) {}

  /** True once the client was closed for not reading. */
  get closedSlow(): boolean {
    return this.slow
  }

  /** Queues the frame for the end of the tick; drops it once the client is slow or the socket is no longer open. */
  send(payload: string | Uint8Array): void {
    if (this.slow) {
      this.events.onDropped()
      return
    }
    const socket = this.socket
    if (socket.readyState !== socket.OPEN) return
    const bound = maxPayloadBytes(payload)
    const waitingBound = socket.bufferedAmount + this.queuedBound
    // UTF-8 takes 1 to 3 bytes per UTF-16 unit: exact (O(n)) counts only when the cap may be near.
    if (waitingBound > 0 && waitingBound + bound > this.limits.maxOutboundBytes) {
      const waiting = socket.bufferedAmount + this.queued.reduce((sum, frame) => sum + payloadBytes(frame), 0)
      if (waiting > 0 && waiting + payloadBytes(payload) > this.limits.maxOutboundBytes) {
        this.closeSlowClient(waiting)
        return
      }
    }
    if (this.queued.length === 0) process.nextTick(flushGate, this)
    this.queued.push(payload)
    this.queuedBound += bound
  }

  /** Writes this tick's frames now, in one write (the end of the tick does it otherwise). */
  flush(): void {
    const queued = this.queued
    if (queued.length === 0) return
    this.queued = []
    this.queuedBound = 0
    const socket = this.socket
    // Closed meanwhile: they go nowhere, as a send after the close would.
    if (socket.readyState !== socket.OPEN) return
    const transport = this.transport
    const cork = queued.length > 1 && transport !== undefined && !transport.writableEnded
    if (cork) transport.cork()
    for (const payload of queued) {
      if (typeof payload !== 'string') socket.send(payload)
      else {
        const bytes = repeatedText(payload)
        if (bytes === undefined) socket.send(payload)
        else socket.send(bytes, TEXT_FRAME)
      }
    }
    if (cork) transport.uncork()
  }

  /** Clears the terminate timer and what is queued; call when the socket has closed. */
  dispose(): void {
    clearTimeout(this.terminateTimer)
    this.terminateTimer = undefined
    this.queued = []
    this.queuedBound = 0
  }

  private closeSlowClient(waitingBytes: number): void {
    this.slow = true
    this.events.onSlowClient(waitingBytes)
    this.events.onDropped()
    // This tick's frames are dropped with it: the client is not reading what it already has.
    for (let i = 0; i < this.queued.length; i++) this.events.onDropped()
    this.queued = []
    this.queuedBound = 0
    const socket = this.socket
    socket.close(SlowClientError.closeCode, 'client too slow')
    this.terminateTimer = setTimeout(() => {
      socket.terminate()
    }, this.limits.slowClientCloseGraceMs)
    this.terminateTimer.unref()
  }
}

const TEXT_FRAME = { binary: false } as const
let lastText: string | undefined
let lastTextBytes: Buffer | undefined

/**
 * The UTF-8 bytes of `text` when it is the text the last frame carried too, encoded once, else undefined (sent as
 * a string). A group message forwarded by every member is written to socket after socket: ws would measure and
 * encode the same string once per socket; this does it once per message. A one-off text (an echo) costs a compare.
 */
function repeatedText(text: string): Buffer | undefined {
  if (text !== lastText) {
    lastText = text
    lastTextBytes = undefined
    return undefined
  }
  lastTextBytes ??= Buffer.from(text)
  return lastTextBytes
}

// A module function with an argument, not a closure per tick.
function flushGate(gate: OutboundGate): void {
  gate.flush()
}

/** An upper bound of `payloadBytes`, in O(1). */
function maxPayloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? payload.length * 3 : payload.byteLength
}

/** The bytes a frame's payload takes on the wire (UTF-8 for text). */
export function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength
}
