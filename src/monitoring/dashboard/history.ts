import type { LayerSnapshot } from '../../layers/snapshot.js'

/** One point of the dashboard's chart: totals over every channel and worker at `at`. */
export interface HistoryPoint {
  /** Unix ms. */
  readonly at: number
  /** Messages waiting, summed over channels. */
  readonly backlog: number
  readonly inFlight: number
  readonly delayed: number
  /** Tasks finished (processed plus dead), summed over the workers alive at `at`. */
  readonly processed: number
  /** This layer instance's `stats().sent`. */
  readonly sent: number
}

/**
 * A bounded ring of chart points, oldest first: the newest `capacity` samples, the older ones overwritten.
 *
 * @example
 * ```ts
 * const history = new History(360)
 * history.add(pointOf(await layer.inspect()))
 * history.points() // up to 360 points, oldest first
 * ```
 */
export class History {
  private readonly ring: (HistoryPoint | undefined)[]
  private next = 0
  private size = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('History capacity must be a positive integer')
    this.ring = new Array<HistoryPoint | undefined>(capacity).fill(undefined)
  }

  add(point: HistoryPoint): void {
    this.ring[this.next] = point
    this.next = (this.next + 1) % this.capacity
    this.size = Math.min(this.size + 1, this.capacity)
  }

  points(): HistoryPoint[] {
    const start = (this.next - this.size + this.capacity) % this.capacity
    const points: HistoryPoint[] = []
    for (let i = 0; i < this.size; i++) {
      const point = this.ring[(start + i) % this.capacity]
      if (point !== undefined) points.push(point)
    }
    return points
  }
}

/** The chart point a snapshot makes. */
export function pointOf(snapshot: LayerSnapshot): HistoryPoint {
  let backlog = 0
  let inFlight = 0
  let delayed = 0
  for (const channel of snapshot.channels) {
    backlog += channel.backlog
    inFlight += channel.inFlight
    delayed += channel.delayed
  }
  let processed = 0
  for (const worker of snapshot.workers) processed += worker.processed + worker.dead
  return Object.freeze({ at: snapshot.takenAt, backlog, inFlight, delayed, processed, sent: snapshot.stats.sent })
}
