import type { LayerStats } from './channel-layer.js'

/** The mutable counters behind `stats()`; every backend keeps one. */
export class LayerCounters implements LayerStats {
  sent = 0
  received = 0
  dropped = 0
  rejected = 0
  expired = 0
  groupSends = 0

  snapshot(): LayerStats {
    return Object.freeze({
      sent: this.sent,
      received: this.received,
      dropped: this.dropped,
      rejected: this.rejected,
      expired: this.expired,
      groupSends: this.groupSends,
    })
  }
}
