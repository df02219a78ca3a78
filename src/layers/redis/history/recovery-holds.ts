import type { Message } from '../../channel-layer.js'
import { positionOf } from '../../history/positions.js'

interface Held {
  readonly message: Message
  readonly expiresAt: number
}

/**
 * Live history messages held back from a local channel while it joins their group. The join's script fixes the
 * boundary (the group's offset when it ran): what it replays is at or below it, and live copies above it may
 * already be on their way through the process queue, on another connection, before the script's reply is back.
 * Holding them until the replay is in the channel keeps the channel's order; dropping held copies at or below the
 * boundary keeps it free of duplicates.
 */
export class RecoveryHolds {
  private readonly holds = new Map<string, Held[]>()

  /** Starts holding `group`'s messages for `channel` (before the channel is a local member). */
  hold(channel: string, group: string): void {
    this.holds.set(holdKey(channel, group), [])
  }

  isHolding(channel: string, group: string): boolean {
    return this.holds.has(holdKey(channel, group))
  }

  /** Keeps a live message back if `channel` is joining `group`; false when it should be delivered now. */
  capture(channel: string, group: string, message: Message, expiresAt: number): boolean {
    if (this.holds.size === 0) return false
    const held = this.holds.get(holdKey(channel, group))
    if (held === undefined) return false
    held.push({ message, expiresAt })
    return true
  }

  /** Stops holding; returns what was held after `boundary` (every message when undefined: the join failed). */
  release(channel: string, group: string, boundary: number | undefined): readonly Held[] {
    const key = holdKey(channel, group)
    const held = this.holds.get(key) ?? []
    this.holds.delete(key)
    if (boundary === undefined) return held
    return held.filter(({ message }) => (positionOf(message)?.offset ?? Infinity) > boundary)
  }
}

function holdKey(channel: string, group: string): string {
  // A space: neither name may contain one.
  return `${channel} ${group}`
}
