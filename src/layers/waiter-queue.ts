/**
 * Who waits on one local channel, oldest first, with O(1) add, take and delete: a `Set` (which keeps insertion
 * order) behind a field for the oldest. A consumer's channel has one waiter, its run loop, which is handed a message
 * and registers again after nearly every message; held in the field, that costs no hash-table work, where a `Set`
 * going from one entry to none shrinks its table (a runtime call and a new table) for every member of a fan-out.
 *
 * @example
 * ```ts
 * const waiters = new WaiterQueue<string>()
 * waiters.add('a')
 * waiters.add('b')
 * waiters.shift() // 'a'
 * waiters.delete('b') // true
 * waiters.size // 0
 * ```
 */
export class WaiterQueue<T> {
  /** The oldest waiter; undefined only when there is none (`rest` is then empty too). */
  private first: T | undefined
  /** The others, in arrival order; made when a second waiter comes. */
  private rest: Set<T> | undefined

  get size(): number {
    return this.first === undefined ? 0 : 1 + (this.rest?.size ?? 0)
  }

  /** Adds `waiter` last; one already waiting keeps its place. */
  add(waiter: T): void {
    if (this.first === undefined) this.first = waiter
    else if (waiter !== this.first) (this.rest ??= new Set()).add(waiter)
  }

  /** Takes the oldest waiter off; undefined when there is none. */
  shift(): T | undefined {
    const first = this.first
    this.first = undefined
    const rest = this.rest
    if (rest !== undefined && rest.size > 0) {
      for (const next of rest) {
        this.first = next
        break
      }
      if (this.first !== undefined) rest.delete(this.first)
    }
    return first
  }

  /** Takes `waiter` off; false if it was not waiting. */
  delete(waiter: T): boolean {
    if (this.first === undefined) return false
    if (waiter === this.first) {
      this.shift()
      return true
    }
    return this.rest?.delete(waiter) ?? false
  }

  *[Symbol.iterator](): IterableIterator<T> {
    if (this.first === undefined) return
    yield this.first
    if (this.rest !== undefined) yield* this.rest
  }
}
