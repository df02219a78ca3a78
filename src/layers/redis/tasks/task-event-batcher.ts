import type { Message } from '../../channel-layer.js'
import type { RedisShard } from '../redis-shard.js'
import { runGroupsWithMembers } from '../scripts/group-scripts.js'

/** What the batcher needs of the task store's context (`RedisTaskStoreContext`). */
export interface TaskEventBatcherContext {
  /** The shard holding a group's memberships. */
  shardForGroup(group: string): RedisShard
  /** Whether `group` matches the layer option `history`, so that what it is sent is kept for later members. */
  keepsHistory(group: string): boolean
  /** The layer's `groupSend`. */
  groupSend(group: string, message: Message): Promise<void>
}

interface PendingEvent {
  readonly group: string
  readonly event: Message
}

/** Events checked together, and the one promise their senders share. */
interface Batch {
  readonly events: PendingEvent[]
  readonly done: Promise<void>
  readonly resolve: () => void
  readonly reject: (reason: unknown) => void
}

/**
 * The least time between two checks of one layer: while a worker ends tasks faster than this, their events wait up to
 * this long to share a check; a lone event is checked at once. A check costs the worker mostly its socket write (over
 * loopback the kernel's TCP work is charged to the writer), whatever the number of groups: at one check per settle
 * call (about 16 tasks) that was the largest part of what announcing every end cost in profiles of
 * test/worker/throughput.test.ts; at one per 50 ms it is a few checks a second.
 */
export const MIN_CHECK_INTERVAL_MS = 50

/**
 * Sends task events (issue 17) to the progress groups someone joined, and skips the others at a fraction of the
 * cost. Every task's end goes to its group, but few groups have members (a page that watches the task), and a
 * group send per task, one script that prunes and plans, halved a Redis worker's rate (test/worker/throughput.test.ts).
 * Events wait for the microtasks of their turn of the event loop to run (`process.nextTick`, as the claim loop
 * gathers settlements), and under load for `MIN_CHECK_INTERVAL_MS` since the last check, so one
 * groups-with-members.lua call per shard tells which of many to send. Sparse events are checked at once.
 *
 * A member that joins while the check is on its way misses the event, as it would had it joined just after the
 * send: a page joins first, then reads the task's state.
 */
export class TaskEventBatcher {
  private batch: Batch | undefined
  /** When the last check went out (`performance.now()`). */
  private checkedAt = Number.NEGATIVE_INFINITY

  constructor(private readonly ctx: TaskEventBatcherContext) {}

  /**
   * Resolves once the event and those checked with it are sent, or found to have no listener; rejects when the
   * check or one of their sends failed. Events checked together share one promise: a worker that ends thousands of
   * tasks a second keeps one pending promise per check, not one per task, until the check returns.
   */
  send(group: string, event: Message): Promise<void> {
    // A history group keeps the event for a member that joins or recovers later: it goes out whoever is there now.
    if (this.ctx.keepsHistory(group)) return this.ctx.groupSend(group, event)
    this.batch ??= this.open()
    this.batch.events.push({ group, event })
    return this.batch.done
  }

  private open(): Batch {
    let resolve!: () => void
    let reject!: (reason: unknown) => void
    const done = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const flush = (): void => {
      void this.flush()
    }
    const waitMs = this.checkedAt + MIN_CHECK_INTERVAL_MS - performance.now()
    if (waitMs > 0) setTimeout(flush, waitMs)
    else process.nextTick(flush)
    return { events: [], done, resolve, reject }
  }

  private async flush(): Promise<void> {
    this.checkedAt = performance.now()
    const batch = this.batch
    this.batch = undefined
    if (batch === undefined) return
    const byShard = new Map<RedisShard, PendingEvent[]>()
    for (const entry of batch.events) {
      const shard = this.ctx.shardForGroup(entry.group)
      const list = byShard.get(shard)
      if (list === undefined) byShard.set(shard, [entry])
      else list.push(entry)
    }
    try {
      await Promise.all([...byShard].map(([shard, entries]) => this.flushShard(shard, entries)))
      batch.resolve()
    } catch (err) {
      batch.reject(err)
    }
  }

  private async flushShard(shard: RedisShard, entries: readonly PendingEvent[]): Promise<void> {
    const groups = [...new Set(entries.map((entry) => entry.group))]
    const flags = await shard.call((client) => runGroupsWithMembers(client, shard.keys, groups), {
      idempotent: true,
    })
    const listened = new Set(groups.filter((_, index) => flags[index] === true))
    // Started in the order the events came, so two events of one group reach Redis in that order.
    const sends = entries
      .filter((entry) => listened.has(entry.group))
      .map((entry) => this.ctx.groupSend(entry.group, entry.event))
    await Promise.all(sends)
  }
}
