import type { Heartbeat } from './heartbeat.js'
import type { InboxLimits } from './inbox.js'
import type { ResolvedSwitchyardOptions } from './server-options.js'
import type { ServerCounters } from './server-stats.js'

/** Frames a busy application may leave unread before the socket is closed with 1008. */
export const MAX_UNREAD_FRAMES = 1000

/**
 * What every connection (`C`: `WebsocketConnection`) of a server shares: one object made by the server, none per
 * connection.
 */
export interface ConnectionHost<C> {
  readonly options: ResolvedSwitchyardOptions
  readonly counters: ServerCounters
  readonly heartbeat: Heartbeat
  /** `MAX_UNREAD_FRAMES` and 4 x `maxMessageBytes`. */
  readonly inboxLimits: InboxLimits
  /** The application has finished (or been abandoned) and the socket is gone. */
  connectionFinished(connection: C): void
}
