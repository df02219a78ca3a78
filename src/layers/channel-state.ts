import type { Arrival } from './arrival-order.js'
import type { Message } from './channel-layer.js'
import type { ChannelListener } from './channel-listener.js'
import { Fifo } from './fifo.js'
import type { PendingReceive } from './pending-receive.js'
import { WaiterQueue } from './waiter-queue.js'

/** A queued message; untracked from the start when it may expire out of arrival order (requeued, a task's). */
export interface Entry extends Arrival {
  readonly channel: string
  readonly message: Message
  /** Reported expired by `purgeExpired` while stuck behind an untracked entry: `take` skips it silently. */
  reported: boolean
}

/** One local channel's buffer and waiters, as `LocalChannels` keeps it (and reuses it for another channel once idle). */
export interface ChannelState {
  /** The channel it is (re)used for. */
  channel: string
  readonly queue: Fifo<Entry>
  /** The channel's capacity, resolved when the state is (re)used for it. */
  capacity: number
  /** Pending receives and registered listeners, oldest first (O(1) delete on abort or `unlisten`). */
  readonly waiters: WaiterQueue<Waiter>
  /** The listener last handed a message here: it may listen again without its name being checked again. */
  handedTo: ChannelListener | undefined
  /**
   * In `LocalChannels.occupied`: a field read when the state is forgotten (after nearly every message), where a
   * `Set.has` would be a hash lookup.
   */
  occupied: boolean
}

/** Who waits on a channel: a `receive`'s promise, or a listener (`ListeningReceiver`), which holds none. */
export type Waiter = PendingReceive | ChannelListener

export function newChannelState(channel: string, capacity: number): ChannelState {
  return {
    channel,
    queue: new Fifo<Entry>(),
    capacity,
    waiters: new WaiterQueue(),
    handedTo: undefined,
    occupied: false,
  }
}
