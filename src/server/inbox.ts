import { Fifo } from '../layers/fifo.js'

interface Waiter<E> {
  resolve(event: E | Promise<E>): void
  reject(reason: Error): void
}

/** How much an inbox holds before `push` refuses. */
export interface InboxLimits {
  readonly maxEvents: number
  readonly maxBytes: number
}

/**
 * The bounded queue behind the `receive` an application is given: client events wait here while the application is
 * busy. `push` refuses once `maxEvents` events or `maxBytes` payload bytes are waiting (the caller closes the
 * connection and counts it); `pushAlways` is for the few lifecycle events (connect, disconnect) that must arrive.
 * `cancel` rejects the pending and every later `receive` with the given error.
 *
 * @example
 * ```ts
 * const inbox = new Inbox<WebsocketInputEvent>({ maxEvents: 1000, maxBytes: 4 * 1_048_576 })
 * inbox.pushAlways({ type: 'websocket.connect' })
 * const receive = () => inbox.receive()
 * if (!inbox.push({ type: 'websocket.receive', text }, text.length)) socket.close(1008)
 * ```
 */
export class Inbox<E> {
  // Made on first use: an idle connection's inbox holds only its one pending receive (`first`), not two queues.
  private events: Fifo<{ event: E; bytes: number; lifecycle: boolean }> | undefined
  /** The oldest pending receive; later ones (rare: receives are normally awaited one at a time) wait in `more`. */
  private first: Waiter<E> | undefined
  private more: Fifo<Waiter<E>> | undefined
  private bytes = 0
  private cancelledWith: Error | undefined
  private seen: ((event: E) => E) | undefined

  constructor(private readonly limits: InboxLimits) {}

  /**
   * Has `onLifecycle` see each event queued with `pushAlways`, in a `then` just before its receiver gets it. Client
   * frames (`push`) pass straight through: no promise per frame to watch for the few events that matter.
   */
  observeLifecycle(onLifecycle: (event: E) => void): void {
    this.seen = tap(onLifecycle)
  }

  /** Events waiting to be received. */
  get length(): number {
    return this.events?.length ?? 0
  }

  /** Queues a client event; false (and nothing queued) when the inbox is full. */
  push(event: E, bytes = 0): boolean {
    if (this.cancelledWith !== undefined) return true
    if (this.first === undefined) {
      if (this.length >= this.limits.maxEvents || this.bytes + bytes > this.limits.maxBytes) return false
    }
    this.deliver(event, bytes, false)
    return true
  }

  /** Queues an event whatever the limits. */
  pushAlways(event: E): void {
    if (this.cancelledWith === undefined) this.deliver(event, 0, true)
  }

  receive(): Promise<E> {
    if (this.cancelledWith !== undefined) return Promise.reject(this.cancelledWith)
    const events = this.events
    const queued = events?.shift()
    if (queued !== undefined) {
      if (events?.length === 0) this.events = undefined
      this.bytes -= queued.bytes
      return this.handOut(queued.event, queued.lifecycle)
    }
    return new Promise<E>((resolve, reject) => {
      const waiter = { resolve, reject }
      if (this.first === undefined) this.first = waiter
      else (this.more ??= new Fifo()).push(waiter)
    })
  }

  /** Rejects the pending and all later receives with `reason`, and drops what is queued. Idempotent. */
  cancel(reason: Error): void {
    if (this.cancelledWith !== undefined) return
    this.cancelledWith = reason
    this.events = undefined
    this.bytes = 0
    for (let waiter = this.nextWaiter(); waiter !== undefined; waiter = this.nextWaiter()) waiter.reject(reason)
  }

  private nextWaiter(): Waiter<E> | undefined {
    const waiter = this.first
    this.first = this.more?.shift()
    return waiter
  }

  private deliver(event: E, bytes: number, lifecycle: boolean): void {
    const waiter = this.nextWaiter()
    if (waiter !== undefined) {
      const seen = this.seen
      waiter.resolve(lifecycle && seen !== undefined ? Promise.resolve(event).then(seen) : event)
      return
    }
    ;(this.events ??= new Fifo()).push({ event, bytes, lifecycle })
    this.bytes += bytes
  }

  private handOut(event: E, lifecycle: boolean): Promise<E> {
    const seen = this.seen
    return lifecycle && seen !== undefined ? Promise.resolve(event).then(seen) : Promise.resolve(event)
  }
}

// Made by a function, not named by a `const`: under tsx, esbuild's keepNames gives a named function an own `name`
// property, 256 bytes per connection.
function tap<E>(onLifecycle: (event: E) => void): (event: E) => E {
  return (event) => {
    onLifecycle(event)
    return event
  }
}
