import type { ClientEventListener, ClientFeed } from '../consumer-runtime/client-feed.js'
import { Fifo } from '../layers/fifo.js'

interface Waiter<E> {
  readonly resolve: (event: E | Promise<E>) => void
  readonly reject: (reason: Error) => void
}

/** How much an inbox holds before `push` refuses. Made once per server and shared by its connections. */
export interface InboxLimits {
  readonly maxEvents: number
  readonly maxBytes: number
}

/** Sees each lifecycle event (`pushAlways`) just before the application receives it. */
export interface LifecycleObserver<E> {
  lifecycleReceived(event: E): void
}

/**
 * The bounded queue behind the `receive` an application is given: client events wait here while the application is
 * busy. `push` refuses once `maxEvents` events or `maxBytes` payload bytes are waiting (the caller closes the
 * connection and counts it); `pushAlways` is for the few lifecycle events (connect, disconnect) that must arrive.
 * `cancel` rejects the pending and every later `receive` with the given error.
 *
 * It is also a `ClientFeed`: a consumer's run loop asks it for the next event with `next(listener)`, and an idle
 * connection's inbox then holds that listener and nothing else, no pending promise. Otherwise it holds its one
 * pending receive; the queue is made when an event waits, a second pending receive (rare: receives are awaited one
 * at a time) is queued apart.
 *
 * @example
 * ```ts
 * const inbox = new Inbox<WebsocketInputEvent>({ maxEvents: 1000, maxBytes: 4 * 1_048_576 })
 * inbox.pushAlways({ type: 'websocket.connect' })
 * const receive = () => inbox.receive()
 * if (!inbox.push({ type: 'websocket.receive', text }, text.length)) socket.close(1008)
 * ```
 */
export class Inbox<E> implements ClientFeed<E> {
  private events: Fifo<{ event: E; bytes: number; lifecycle: boolean }> | undefined
  /** The oldest pending receive's settle functions; later receives wait in `more`. */
  private resolveFirst: ((event: E | Promise<E>) => void) | undefined
  private rejectFirst: ((reason: Error) => void) | undefined
  private more: Fifo<Waiter<E>> | undefined
  /** The run loop waiting through `next` (never at the same time as a pending `receive`). */
  private listener: ClientEventListener<E> | undefined
  private bytes = 0
  private cancelledWith: Error | undefined
  private observer: LifecycleObserver<E> | undefined

  constructor(private readonly limits: InboxLimits) {}

  /**
   * Has `observer` see each event queued with `pushAlways`, in a `then` just before its receiver gets it. Client
   * frames (`push`) pass straight through: no promise per frame to watch for the few events that matter.
   */
  observeLifecycle(observer: LifecycleObserver<E>): void {
    this.observer = observer
  }

  /** Events waiting to be received. */
  get length(): number {
    return this.events?.length ?? 0
  }

  /** Queues a client event; false (and nothing queued) when the inbox is full. */
  push(event: E, bytes = 0): boolean {
    if (this.cancelledWith !== undefined) return true
    if (this.resolveFirst === undefined && this.listener === undefined) {
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
      if (this.resolveFirst === undefined) {
        this.resolveFirst = resolve
        this.rejectFirst = reject
      } else {
        ;(this.more ??= new Fifo()).push({ resolve, reject })
      }
    })
  }

  /**
   * Hands the next event (or the cancellation) to `listener`: at once if one is queued, else when it is pushed, in
   * a microtask as a receive's promise would.
   */
  next(listener: ClientEventListener<E>): void {
    if (this.cancelledWith !== undefined) {
      listener.clientEventFailed(this.cancelledWith)
      return
    }
    const events = this.events
    const queued = events?.shift()
    if (queued === undefined) {
      this.listener = listener
      return
    }
    if (events?.length === 0) this.events = undefined
    this.bytes -= queued.bytes
    if (queued.lifecycle) this.observer?.lifecycleReceived(queued.event)
    listener.clientEvent(queued.event)
  }

  /** Rejects the pending and all later receives with `reason`, and drops what is queued. Idempotent. */
  cancel(reason: Error): void {
    if (this.cancelledWith !== undefined) return
    this.cancelledWith = reason
    this.events = undefined
    this.bytes = 0
    const listener = this.listener
    if (listener !== undefined) {
      this.listener = undefined
      queueMicrotask(() => {
        listener.clientEventFailed(reason)
      })
    }
    for (let waiter = this.nextWaiter(); waiter !== undefined; waiter = this.nextWaiter()) waiter.reject(reason)
  }

  private nextWaiter(): Waiter<E> | undefined {
    const resolve = this.resolveFirst
    const reject = this.rejectFirst
    const next = this.more?.shift()
    this.resolveFirst = next?.resolve
    this.rejectFirst = next?.reject
    return resolve === undefined || reject === undefined ? undefined : { resolve, reject }
  }

  private deliver(event: E, bytes: number, lifecycle: boolean): void {
    const listener = this.listener
    if (listener !== undefined) {
      this.listener = undefined
      const observer = lifecycle ? this.observer : undefined
      queueMicrotask(() => {
        observer?.lifecycleReceived(event)
        listener.clientEvent(event)
      })
      return
    }
    const resolve = this.resolveFirst
    if (resolve !== undefined) {
      const next = this.more?.shift()
      this.resolveFirst = next?.resolve
      this.rejectFirst = next?.reject
      // A client frame as it is: no promise hop per frame.
      resolve(lifecycle ? this.handOut(event, true) : event)
      return
    }
    ;(this.events ??= new Fifo()).push({ event, bytes, lifecycle })
    this.bytes += bytes
  }

  /** The event as its receiver gets it: a lifecycle event after its observer saw it. */
  private handOut(event: E, lifecycle: boolean): Promise<E> {
    const observer = this.observer
    if (!lifecycle || observer === undefined) return Promise.resolve(event)
    return Promise.resolve(event).then((seen) => {
      observer.lifecycleReceived(seen)
      return seen
    })
  }
}
