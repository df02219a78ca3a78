/**
 * A socket the heartbeat watches, usually its connection itself (no object of its own): `lastSeenAt` is refreshed
 * by the owner on every frame and pong.
 */
export interface HeartbeatMember {
  lastSeenAt: number
  /** Pings the peer if its socket is open. */
  ping(): void
  /** The peer was silent for `pingTimeoutMs`: terminate it (and count and log it). */
  onPingTimeout(): void
}

/**
 * Keep-alive for every socket of a server with ONE interval timer (unref'd), not one per socket. Each sweep pings
 * the sockets silent for `pingIntervalMs` and terminates those silent for `pingTimeoutMs`: a dead peer is
 * dropped between `pingTimeoutMs` and `pingTimeoutMs + sweepMs` after its last sign of life. The timer runs only
 * while at least one socket is watched.
 *
 * @example
 * ```ts
 * const heartbeat = new Heartbeat({ pingIntervalMs: 20_000, pingTimeoutMs: 30_000 })
 * const member = { lastSeenAt: Date.now(), ping: () => socket.ping(), onPingTimeout: () => socket.terminate() }
 * heartbeat.add(member)
 * socket.on('pong', () => (member.lastSeenAt = Date.now()))
 * socket.on('close', () => heartbeat.delete(member))
 * ```
 */
export class Heartbeat {
  private readonly members = new Set<HeartbeatMember>()
  private timer: NodeJS.Timeout | undefined
  /** The sweep period: the ping interval, tightened so a timeout is noticed within half of `pingTimeoutMs`. */
  readonly sweepMs: number

  constructor(private readonly limits: { readonly pingIntervalMs: number; readonly pingTimeoutMs: number }) {
    this.sweepMs = Math.max(1, Math.min(limits.pingIntervalMs, Math.ceil(limits.pingTimeoutMs / 2)))
  }

  /** Interval timers this heartbeat holds: 1 while it watches any socket, else 0. */
  get timers(): number {
    return this.timer === undefined ? 0 : 1
  }

  get size(): number {
    return this.members.size
  }

  add(member: HeartbeatMember): void {
    this.members.add(member)
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.sweep(Date.now())
      }, this.sweepMs)
      this.timer.unref()
    }
  }

  delete(member: HeartbeatMember): void {
    this.members.delete(member)
    if (this.members.size === 0) this.stop()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private sweep(now: number): void {
    for (const member of [...this.members]) {
      const silentMs = now - member.lastSeenAt
      if (silentMs >= this.limits.pingTimeoutMs) {
        this.delete(member)
        member.onPingTimeout()
      } else if (silentMs >= this.limits.pingIntervalMs - this.sweepMs / 2) {
        member.ping()
      }
    }
  }
}
