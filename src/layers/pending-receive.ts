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

/**
 * Per signal, the receives it would cancel: most signals (a consumer's) have one receive at a time, so a lone one is
 * kept as is and a Set made only for a second; null once none is left (the signal keeps its one listener).
 */
const WATCHED = new WeakMap<AbortSignal, PendingReceive | Set<PendingReceive> | null>()

function watch(signal: AbortSignal, pending: PendingReceive): void {
  const watched = WATCHED.get(signal)
  if (watched === undefined) {
    WATCHED.set(signal, pending)
    signal.addEventListener('abort', onWatchedAbort, { once: true })
  } else if (watched === null) {
    WATCHED.set(signal, pending)
  } else if (watched instanceof Set) {
    watched.add(pending)
  } else {
    WATCHED.set(signal, new Set([watched, pending]))
  }
}

function unwatch(signal: AbortSignal, pending: PendingReceive): void {
  const watched = WATCHED.get(signal)
  if (watched === pending) WATCHED.set(signal, null)
  else if (watched instanceof Set) watched.delete(pending)
}

/** One listener function for every signal: no closure per consumer. */
function onWatchedAbort(event: Event): void {
  const signal = event.target as AbortSignal
  const watched = WATCHED.get(signal)
  WATCHED.set(signal, null)
  if (watched instanceof Set) for (const receive of [...watched]) receive.aborted()
  else watched?.aborted()
}
