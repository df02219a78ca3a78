import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { Heartbeat, type HeartbeatMember } from '../../../src/server/heartbeat.js'

/** A watched socket: records when it was pinged and timed out; answers pings after `answerMs` unless `dead`. */
class Peer implements HeartbeatMember {
  lastSeenAt = Date.now()
  readonly pingedAt: number[] = []
  timedOutAt: number | undefined

  constructor(
    private readonly answerMs: number,
    readonly dead = false,
  ) {}

  ping(): void {
    this.pingedAt.push(Date.now())
    if (!this.dead) {
      setTimeout(() => {
        this.lastSeenAt = Date.now()
      }, this.answerMs)
    }
  }

  onPingTimeout(): void {
    this.timedOutAt = Date.now()
  }
}

const gaps = (times: readonly number[]): number[] => times.slice(1).map((time, i) => time - (times[i] ?? 0))

describe('Heartbeat sweeps (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('sweeps every 2.5 s by default: a quarter of the shorter of the ping interval and the time to answer', () => {
    expect(new Heartbeat({ pingIntervalMs: 20_000, pingTimeoutMs: 30_000 }).sweepMs).toBe(2_500)
    expect(new Heartbeat({ pingIntervalMs: 10_000, pingTimeoutMs: 60_000 }).sweepMs).toBe(2_500)
    expect(new Heartbeat({ pingIntervalMs: 40, pingTimeoutMs: 150 }).sweepMs).toBe(10)
  })

  it('pings a quiet peer once per pingIntervalMs (never sooner, at most a sweep later) and keeps it', () => {
    const heartbeat = new Heartbeat({ pingIntervalMs: 20_000, pingTimeoutMs: 30_000 })
    const peer = new Peer(50)
    heartbeat.add(peer)
    vi.advanceTimersByTime(300_000)
    expect(peer.timedOutAt).toBeUndefined()
    expect(peer.pingedAt[0]).toBeGreaterThanOrEqual(20_000)
    for (const gap of gaps(peer.pingedAt)) {
      expect(gap).toBeGreaterThanOrEqual(20_000)
      expect(gap).toBeLessThanOrEqual(20_000 + 2_500 + 50)
    }
    // Every 20 to 22.5 s: 13 or 14 pings in 300 s (the old 15 s sweep pinged 20 times).
    expect(peer.pingedAt.length).toBeGreaterThanOrEqual(13)
    expect(peer.pingedAt.length).toBeLessThanOrEqual(15)
    heartbeat.stop()
  })

  it('pings a dead peer once, then terminates it within a sweep after pingTimeoutMs', () => {
    const heartbeat = new Heartbeat({ pingIntervalMs: 20_000, pingTimeoutMs: 30_000 })
    const peer = new Peer(0, true)
    heartbeat.add(peer)
    vi.advanceTimersByTime(40_000)
    expect(peer.pingedAt).toHaveLength(1)
    expect(peer.timedOutAt).toBeGreaterThanOrEqual(30_000)
    expect(peer.timedOutAt).toBeLessThanOrEqual(32_500)
    expect(heartbeat.size).toBe(0)
    expect(heartbeat.timers).toBe(0)
  })

  it('does not ping a peer that keeps talking, and still pings one whose silence a late sweep found', () => {
    const heartbeat = new Heartbeat({ pingIntervalMs: 20_000, pingTimeoutMs: 30_000 })
    const chatty = new Peer(50)
    const quiet = new Peer(50)
    heartbeat.add(chatty)
    heartbeat.add(quiet)
    const talk = setInterval(() => {
      chatty.lastSeenAt = Date.now()
    }, 5_000)
    vi.advanceTimersByTime(100_000)
    expect(chatty.pingedAt).toEqual([])
    expect(quiet.pingedAt.length).toBeGreaterThanOrEqual(4)
    clearInterval(talk)
    // A blocked event loop: the sweep that should have seen the silence reach 20 s runs ~5 s late; the ping still goes out.
    const late = new Peer(50)
    heartbeat.add(late)
    const blockedUntil = Date.now() + 25_000
    vi.setSystemTime(blockedUntil)
    vi.advanceTimersToNextTimer()
    expect(late.pingedAt).toHaveLength(1)
    expect(late.timedOutAt).toBeUndefined()
    heartbeat.stop()
  })
})
