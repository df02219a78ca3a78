import type { Message } from './channel-layer.js'

/**
 * One `receive` waiting on a local channel: settled once, by a message handed over (`resolve`), by the layer
 * closing (`reject`), or by its AbortSignal (`onAbort`, which the owner answers by taking it out of the channel's
 * waiters first, so a message is never both handed over and left behind).
 *
 * A class, not closures per receive, and one 'abort' listener per signal rather than one per receive: a consumer
 * waits on its channel after nearly every message, always with the same signal, and an EventTarget listener
 * added and removed each time costs more than the rest of the wait.
 */
export class PendingReceive {
  constructor(
    readonly channel: string,
    readonly signal: AbortSignal | undefined,
    private readonly settleResolve: (message: Message) => void,
    private readonly settleReject: (reason: unknown) => void,
    private readonly onAbort: (pending: PendingReceive) => void,
  ) {
    if (signal !== undefined) watch(signal, this)
  }

  resolve(message: Message): void {
    if (this.signal !== undefined) unwatch(this.signal, this)
    this.settleResolve(message)
  }

  reject(reason: unknown): void {
    if (this.signal !== undefined) unwatch(this.signal, this)
    this.settleReject(reason)
  }

  /** Called once when the signal aborts while this receive is watched. */
  aborted(): void {
    this.onAbort(this)
  }
}

/** Per signal, the receives it would cancel. */
const WATCHED = new WeakMap<AbortSignal, Set<PendingReceive>>()

function watch(signal: AbortSignal, pending: PendingReceive): void {
  let watched = WATCHED.get(signal)
  if (watched === undefined) {
    const receives = new Set<PendingReceive>()
    watched = receives
    WATCHED.set(signal, receives)
    signal.addEventListener(
      'abort',
      () => {
        const cancelled = [...receives]
        receives.clear()
        for (const receive of cancelled) receive.aborted()
      },
      { once: true },
    )
  }
  watched.add(pending)
}

function unwatch(signal: AbortSignal, pending: PendingReceive): void {
  WATCHED.get(signal)?.delete(pending)
}
