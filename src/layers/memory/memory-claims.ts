import type { Message } from '../channel-layer.js'
import type { ClaimedTask } from '../../tasks/task-store.js'

/** A message the in-memory store handed to a worker, invisible to others until settled or past its deadline. */
export interface Claim {
  readonly channel: string
  readonly message: Message
  readonly taskId: string
  readonly attempt: number
  readonly firstAttemptAt: number
  deadline: number
  /**
   * When a stalled check first found it past its deadline (ms since the epoch), undefined while it is not: a check
   * at least `graceMs` later takes it back if it still is.
   */
  stalledSince: number | undefined
}

/**
 * The in-memory store's claims, per channel, by token. A claim's token is its `ClaimedTask.payload`, unique per
 * claim, so a late ack, retry or release from a worker whose claim was recovered never touches the claim of
 * whoever took the task next.
 */
export class MemoryClaims {
  private readonly byChannel = new Map<string, Map<string, Claim>>()

  add(claim: Claim, token: string): void {
    let claims = this.byChannel.get(claim.channel)
    if (claims === undefined) {
      claims = new Map()
      this.byChannel.set(claim.channel, claims)
    }
    claims.set(token, claim)
  }

  find(task: ClaimedTask): Claim | undefined {
    return this.byChannel.get(task.channel)?.get(task.payload.toString())
  }

  /** Removes the task's claim; undefined when it was lost (recovered, or the layer flushed). */
  remove(task: ClaimedTask): Claim | undefined {
    const claims = this.byChannel.get(task.channel)
    const token = task.payload.toString()
    const claim = claims?.get(token)
    if (claims === undefined || claim === undefined) return undefined
    claims.delete(token)
    if (claims.size === 0) this.byChannel.delete(task.channel)
    return claim
  }

  /**
   * The two-phase stalled check of `channel`: claims past their deadline are flagged, and those flagged at least
   * `graceMs` before are removed and returned (a live worker whose renewal was merely late keeps its work).
   */
  takeStalled(channel: string, now: number, graceMs: number): Claim[] {
    const claims = this.byChannel.get(channel)
    if (claims === undefined) return []
    const taken: Claim[] = []
    for (const [token, claim] of claims) {
      if (claim.deadline > now) {
        claim.stalledSince = undefined
      } else if (claim.stalledSince === undefined) {
        claim.stalledSince = now
      } else if (now - claim.stalledSince >= graceMs) {
        claims.delete(token)
        taken.push(claim)
      }
    }
    if (claims.size === 0) this.byChannel.delete(channel)
    return taken
  }

  /** Claims being worked on, per channel (for `inspect()`). */
  counts(): ReadonlyMap<string, number> {
    return new Map([...this.byChannel].map(([channel, claims]) => [channel, claims.size]))
  }

  clear(): void {
    this.byChannel.clear()
  }
}
