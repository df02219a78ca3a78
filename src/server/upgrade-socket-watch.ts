import type { Duplex } from 'node:stream'

/** A client sends nothing before the 101 response; more than this before it is not a WebSocket client. */
const MAX_EARLY_BYTES = 64 * 1024

/**
 * Watches the TCP socket of an upgrade request while the application decides the handshake. Node hands over an
 * upgrade socket unread, so a client that hangs up would go unnoticed until the handshake ends; reading it makes the
 * hang-up visible at once (`onGone`). Bytes read meanwhile are put back for ws by `handOver()`.
 *
 * @example
 * ```ts
 * const watch = new UpgradeSocketWatch(request.socket, () => connection.clientLeft())
 * // accepted: stop reading before ws takes the socket, and let it flow once ws listens
 * watch.handOver()
 * wss.handleUpgrade(request, request.socket, head, () => watch.release())
 * ```
 */
export class UpgradeSocketWatch {
  private early: Buffer[] | undefined
  private earlyBytes = 0
  private watching = true

  constructor(
    private readonly socket: Duplex,
    private readonly onGone: () => void,
  ) {
    socket.on('data', this.onData)
    socket.once('end', this.onEnd)
    socket.once('close', this.onEnd)
    socket.resume()
  }

  /**
   * Stops reading and puts back what was read, leaving the socket paused for ws; a socket closing before ws
   * takes it is still reported.
   */
  handOver(): void {
    this.socket.off('data', this.onData)
    this.socket.off('end', this.onEnd)
    this.socket.pause()
    if (this.early !== undefined && this.early.length > 0) this.socket.unshift(Buffer.concat(this.early))
    this.early = undefined
  }

  /** Stops watching and lets the socket flow again, for ws which now listens to it. */
  release(): void {
    this.stop()
    this.socket.resume()
  }

  /** Stops watching (the handshake was refused or the client is gone). Idempotent. */
  stop(): void {
    if (!this.watching) return
    this.watching = false
    this.socket.off('data', this.onData)
    this.socket.off('end', this.onEnd)
    this.socket.off('close', this.onEnd)
  }

  private readonly onData = (chunk: Buffer): void => {
    ;(this.early ??= []).push(chunk)
    this.earlyBytes += chunk.length
    if (this.earlyBytes > MAX_EARLY_BYTES) this.socket.destroy()
  }

  private readonly onEnd = (): void => {
    this.stop()
    this.onGone()
  }
}
