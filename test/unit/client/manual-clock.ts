import type { Clock } from '../../../src/client/index.js'

interface Timer {
  readonly id: number
  readonly due: number
  readonly callback: () => void
}

/**
 * A `Clock` for the client that only moves when the test says so: reconnect delays then cost no real time, and a
 * test sees each delay the client asked for and decides when it has passed. Sockets stay real; only the client's
 * own timers and `now()` are driven by hand.
 */
export class ManualClock implements Clock {
  /** Every delay passed to `setTimeout`, in order, including ones cleared since. */
  readonly delays: number[] = []
  private time = 0
  private nextId = 1
  private readonly timers = new Map<number, Timer>()

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++
    this.delays.push(ms)
    this.timers.set(id, { id, due: this.time + ms, callback })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number)
  }

  /** How long each pending timer has left, soonest first. */
  get pending(): number[] {
    return this.sorted().map((timer) => timer.due - this.time)
  }

  /** Moves time forward by `ms`, running each timer that comes due on the way, in order. */
  advance(ms: number): void {
    const until = this.time + ms
    for (let timer = this.sorted()[0]; timer !== undefined && timer.due <= until; timer = this.sorted()[0]) {
      this.timers.delete(timer.id)
      this.time = timer.due
      timer.callback()
    }
    this.time = until
  }

  /** Moves time to the soonest pending timer and runs it; returns how far time moved. Throws when none is pending. */
  runNext(): number {
    const [next] = this.pending
    if (next === undefined) throw new Error('no timer is pending')
    this.advance(next)
    return next
  }

  private sorted(): Timer[] {
    return [...this.timers.values()].sort((a, b) => a.due - b.due || a.id - b.id)
  }
}
