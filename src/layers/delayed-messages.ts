interface Scheduled<T> {
  readonly dueAt: number
  /** Scheduling order: breaks ties between equal due times, so equal delays keep their send order. */
  readonly seq: number
  readonly item: T
}

/** The longest delay `setTimeout` honours (2^31 - 1 ms, about 24.8 days); a longer wait re-arms when it fires. */
const MAX_TIMER_DELAY_MS = 2_147_483_647

/**
 * Items waiting for a due time, in one binary min-heap ordered by (due time, scheduling order), with ONE timer
 * armed for the earliest due time (unref'd: waiting messages never keep a process alive). Scheduling is
 * O(log n); nothing is scanned on a timer tick but the due prefix.
 *
 * `deliverDue()` may also be called eagerly (a claim or send does), so delivery follows `Date.now()` even when
 * the timer fires late.
 *
 * @example
 * ```ts
 * const delayed = new DelayedMessages<string>((item) => console.log(item))
 * delayed.schedule(Date.now() + 1000, 'a second later')
 * delayed.clear() // on close: drops everything and clears the timer
 * ```
 */
export class DelayedMessages<T> {
  private readonly heap: Scheduled<T>[] = []
  /** Waiting items per `keyOf` key (a channel), for a cap on how many may wait. */
  private readonly waitingByKey = new Map<string, number>()
  private seq = 0
  private timer: NodeJS.Timeout | undefined
  /** The due time the timer is armed for (Infinity when unarmed). */
  private armedFor = Number.POSITIVE_INFINITY

  /**
   * @param onDue called once per item, in due order, when it comes due; must not throw.
   * @param onTimer what the timer runs; by default `deliverDue()`. A layer passes its own housekeeping, which
   *   must end by calling `deliverDue()` (so the timer is re-armed).
   * @param keyOf what `waiting(key)` counts items by (a channel name); by default nothing is counted.
   */
  constructor(
    private readonly onDue: (item: T) => void,
    private readonly onTimer?: () => void,
    private readonly keyOf?: (item: T) => string,
  ) {}

  /** How many items with this key wait (0 without a `keyOf`). */
  waiting(key: string): number {
    return this.waitingByKey.get(key) ?? 0
  }

  get size(): number {
    return this.heap.length
  }

  /** Every waiting item, in no particular order (read-only: for `inspect()`). */
  *items(): Generator<T> {
    for (const scheduled of this.heap) yield scheduled.item
  }

  schedule(dueAt: number, item: T): void {
    if (this.keyOf !== undefined) {
      const key = this.keyOf(item)
      this.waitingByKey.set(key, this.waiting(key) + 1)
    }
    this.heap.push({ dueAt, seq: this.seq++, item })
    this.siftUp(this.heap.length - 1)
    this.arm()
  }

  /** Hands every item due at `now` to `onDue`, earliest first, then re-arms the timer for the next one. */
  deliverDue(now = Date.now()): void {
    for (let next = this.heap[0]; next !== undefined && next.dueAt <= now; next = this.heap[0]) {
      this.pop()
      if (this.keyOf !== undefined) {
        const key = this.keyOf(next.item)
        const left = this.waiting(key) - 1
        if (left > 0) this.waitingByKey.set(key, left)
        else this.waitingByKey.delete(key)
      }
      this.onDue(next.item)
    }
    this.arm()
  }

  /** Drops every waiting item and clears the timer (flush, close). */
  clear(): void {
    this.heap.length = 0
    this.waitingByKey.clear()
    this.disarm()
  }

  private arm(): void {
    const next = this.heap[0]
    if (next === undefined) {
      this.disarm()
      return
    }
    if (this.timer !== undefined && this.armedFor <= next.dueAt) return
    this.disarm()
    this.armedFor = next.dueAt
    // A timer can fire a millisecond before Date.now() reaches the due time; then nothing is due and it re-arms.
    const wait = Math.min(Math.max(next.dueAt - Date.now(), 1), MAX_TIMER_DELAY_MS)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.armedFor = Number.POSITIVE_INFINITY
      if (this.onTimer === undefined) this.deliverDue()
      else this.onTimer()
    }, wait)
    this.timer.unref()
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
  }

  private pop(): void {
    const last = this.heap.pop()
    if (last === undefined || this.heap.length === 0) return
    this.heap[0] = last
    this.siftDown(0)
  }

  private siftUp(index: number): void {
    let child = index
    while (child > 0) {
      const parent = (child - 1) >> 1
      if (!this.before(child, parent)) return
      this.swap(child, parent)
      child = parent
    }
  }

  private siftDown(index: number): void {
    let parent = index
    for (;;) {
      const left = parent * 2 + 1
      const right = left + 1
      let first = parent
      if (left < this.heap.length && this.before(left, first)) first = left
      if (right < this.heap.length && this.before(right, first)) first = right
      if (first === parent) return
      this.swap(parent, first)
      parent = first
    }
  }

  private before(a: number, b: number): boolean {
    const x = this.at(a)
    const y = this.at(b)
    return x.dueAt < y.dueAt || (x.dueAt === y.dueAt && x.seq < y.seq)
  }

  private swap(a: number, b: number): void {
    const x = this.at(a)
    this.heap[a] = this.at(b)
    this.heap[b] = x
  }

  private at(index: number): Scheduled<T> {
    const entry = this.heap[index]
    if (entry === undefined) throw new RangeError(`heap index ${index} out of range`)
    return entry
  }
}
