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
 * Keep-alive for every socket of a server with ONE interval timer (unref'd), not one per socket. A socket is pinged
 * once each time it has been silent for `pingIntervalMs` (at the first sweep after that), and terminated once it
 * has been silent for `pingTimeoutMs`. Sweeps run four times per the shorter of `pingIntervalMs` and the time a ping
 * has to be answered (`pingTimeoutMs - pingIntervalMs`): every 2.5 s by default. So a quiet peer that answers is
 * pinged every `pingIntervalMs` plus at most a quarter of that, not sooner (a ping is a write on each of possibly
 * many thousand sockets), always in time to answer; a dead peer is dropped within a sweep after `pingTimeoutMs`. The
 * timer runs only while at least one socket is watched.
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
  /** The sweep period: a quarter of the ping interval, or of the time to answer a ping if that is shorter. */
  readonly sweepMs: number
  /** When the last sweep ran (or the timer started). */
  private sweptAt = 0

  constructor(private readonly limits: { readonly pingIntervalMs: number; readonly pingTimeoutMs: number }) {
    const answerMs = limits.pingTimeoutMs - limits.pingIntervalMs
    this.sweepMs = Math.max(1, Math.ceil(Math.min(limits.pingIntervalMs, answerMs) / 4))
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
      this.sweptAt = Date.now()
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
    const { pingIntervalMs, pingTimeoutMs } = this.limits
    const since = this.sweptAt
    this.sweptAt = now
    // A Set's iteration survives deleting the member at hand (a timed-out one) without a copy per sweep.
    for (const member of this.members) {
      const silentMs = now - member.lastSeenAt
      if (silentMs >= pingTimeoutMs) {
        this.delete(member)
        member.onPingTimeout()
      } else if (silentMs >= pingIntervalMs && member.lastSeenAt + pingIntervalMs > since) {
        // Once per silence: at the first sweep after it reached `pingIntervalMs`, however late that sweep ran.
        member.ping()
      }
    }
  }
}
