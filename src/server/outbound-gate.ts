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
 * socket, so the close frame follows them. A text written to socket after socket (a group message every member
 * forwards) is framed once, and each socket's transport takes that frame as it is (`textFrame`).
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
  /**
   * Whether a shared frame goes straight to `transport`: ws negotiated no extension (nothing compresses or holds
   * frames back), so its sender writes each frame to the transport at once, as it is, and one built here is the
   * same bytes in the same order. Extensions are settled before the gate exists.
   */
  private readonly writesFrames: boolean

  /** `transport` is the TCP socket under `socket` (the upgrade request's), corked per flush; omit it to not cork. */
  constructor(
    private readonly socket: WebSocket,
    private readonly limits: { readonly maxOutboundBytes: number; readonly slowClientCloseGraceMs: number },
    private readonly events: OutboundGateEvents,
    private readonly transport?: Writable,
  ) {
    this.writesFrames = transport !== undefined && socket.extensions === ''
  }

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
    if (this.queued.length === 0) flushAtEndOfTick(this)
    this.queued.push(payload)
    this.queuedBound += bound
  }

  /** Writes this tick's frames now, in one write (the end of the tick does it otherwise). */
  flush(): void {
    const queued = this.queued
    if (queued.length === 0) return
    this.queuedBound = 0
    const socket = this.socket
    if (queued.length === 1) {
      // The usual case (one group message per member per tick): no array is replaced, nothing is corked.
      const payload = queued.pop() as string | Uint8Array
      if (socket.readyState === socket.OPEN) this.write(payload)
      return
    }
    this.queued = []
    // Closed meanwhile: they go nowhere, as a send after the close would.
    if (socket.readyState !== socket.OPEN) return
    const transport = this.transport
    const cork = transport !== undefined && !transport.writableEnded
    if (cork) transport.cork()
    for (const payload of queued) this.write(payload)
    if (cork) transport.uncork()
  }

  private write(payload: string | Uint8Array): void {
    if (typeof payload !== 'string') this.socket.send(payload)
    else if (this.writesFrames && this.transport !== undefined) this.transport.write(textFrame(payload).frame)
    else this.socket.send(textFrame(payload).payload, TEXT_FRAME)
  }

  /**
   * Writes a ping frame (no payload) straight to the transport when this gate writes frames itself: what ws' `ping()`
   * sends, without ws building it each time (every quiet socket is pinged every `pingIntervalMs`). False when it
   * cannot (the caller pings through ws). Frames queued in this tick follow it: a control frame may come between
   * messages.
   */
  ping(): boolean {
    const transport = this.transport
    if (!this.writesFrames || transport === undefined || this.slow || transport.writableEnded) return false
    transport.write(PING_FRAME)
    return true
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
/** FIN, opcode 9 (ping), unmasked, no payload: the same bytes for every socket (RFC 6455 5.5.2). */
const PING_FRAME = Buffer.from([0x89, 0x00])
let lastText: string | undefined
let lastShared: SharedText | undefined

/** A text's whole unmasked frame (RFC 6455 5.2, as a server sends it), and its UTF-8 payload within it. */
interface SharedText {
  readonly frame: Buffer
  readonly payload: Buffer
}

/**
 * The text frame of `text`, built once for as long as it is the text the last frame carried. A group message
 * forwarded by every member is written to socket after socket: ws would encode the same string and frame it (a
 * header, a two-buffer `writev`) once per socket; this builds the frame once per message, and each socket takes it
 * in one plain write. A one-off text (an echo) is framed here as ws would have framed it, so no frame goes through
 * ws' sender, whose code would otherwise run once per group message, cold, beside this one.
 */
function textFrame(text: string): SharedText {
  if (text !== lastText || lastShared === undefined) {
    lastText = text
    lastShared = sharedText(text)
  }
  return lastShared
}

function sharedText(text: string): SharedText {
  const payloadBytes = Buffer.byteLength(text)
  const lengthBytes = payloadBytes < 126 ? 0 : payloadBytes < 65_536 ? 2 : 8
  const frame = Buffer.allocUnsafe(2 + lengthBytes + payloadBytes)
  frame[0] = 0x81 // FIN, opcode 1 (text)
  if (lengthBytes === 0) frame[1] = payloadBytes
  else if (lengthBytes === 2) {
    frame[1] = 126
    frame.writeUInt16BE(payloadBytes, 2)
  } else {
    frame[1] = 127
    frame.writeUInt32BE(0, 2)
    frame.writeUInt32BE(payloadBytes, 6)
  }
  frame.write(text, 2 + lengthBytes, 'utf8')
  return { frame, payload: frame.subarray(2 + lengthBytes) }
}

/** Gates with frames queued in this tick, flushed together at its end by one `process.nextTick`. */
let dirtyGates: OutboundGate[] = []

/**
 * Flushes `gate` at the end of this tick. One callback for every gate, not one per gate: a group message forwarded
 * by 200 members costs one tick object and one callback, where a `process.nextTick` per socket cost 200 of each.
 */
function flushAtEndOfTick(gate: OutboundGate): void {
  if (dirtyGates.length === 0) process.nextTick(flushDirtyGates)
  dirtyGates.push(gate)
}

function flushDirtyGates(): void {
  // Swapped first: a gate that queues a frame during these flushes is flushed by the next callback.
  const gates = dirtyGates
  dirtyGates = []
  let failure: { error: unknown } | undefined
  for (const gate of gates) {
    try {
      gate.flush()
    } catch (error) {
      // One socket's failure must not leave the other sockets' frames unsent; it is raised once they are out.
      failure ??= { error }
    }
  }
  if (failure !== undefined) throw failure.error
}

/** An upper bound of `payloadBytes`, in O(1). */
function maxPayloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? payload.length * 3 : payload.byteLength
}

/** The bytes a frame's payload takes on the wire (UTF-8 for text). */
export function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength
}
