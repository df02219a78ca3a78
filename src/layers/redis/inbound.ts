import type { Message } from '../channel-layer.js'
import type { OfferResult } from '../local-channels.js'
import { RESERVED_ROUTING_KEY } from '../message-validation.js'
import { BLOCK_SECONDS } from './connection-health.js'
import { freezeMessage } from './frozen-message.js'
import { groupOfProxy, positionInPrefix } from './history/history-wire.js'
import type { InboundContext } from './inbound-context.js'
import { ProcessRouter } from './process-router.js'
import type { RedisShard } from './redis-shard.js'
import { shardAt } from './shard-at.js'

// Other modules import these from here: the context (and the router's marker) live apart so that the router can use
// them without importing this file back.
export type { Decoder, InboundContext } from './inbound-context.js'
export { GROUP_ROUTING_KEY } from './process-router.js'

/** Messages taken from a process queue per round trip once it has woken up, at most. */
const DRAIN_BATCH = 256
/**
 * How long the reader waits for a full local buffer to make room before it reads on regardless (and that buffer
 * drops what it cannot hold): a receiver this slow is stuck, and must not hold up every other channel of the
 * process for longer.
 */
const STALL_MS = 250

/**
 * The process's reading side: one blocking connection per shard runs BZPOPMIN over this process's queues (one
 * per `newChannel` prefix) and the normal channels someone is receiving on, and demultiplexes what arrives. When
 * it waits on process queues only, it reads with BZMPOP (Redis 7+) instead, taking a burst's first batch in the
 * same round trip; on an older Redis, which answers that it does not know the command (or one whose ACL denies
 * it), it keeps to BZPOPMIN.
 * Process-queue messages go to local buffers (a group copy fans out to the local members behind the queue it came
 * through); a normal-channel message goes to the oldest waiting receive, or back to Redis with its original score
 * if that receive was cancelled meanwhile, so cancellation never loses or reorders a message (channels_redis#151).
 *
 * Backpressure: a burst stays in the process queue in Redis (where `processQueueCapacity` bounds it) rather than
 * overflowing local buffers whose consumers simply have not had a turn yet. Between reads the reader yields to
 * them, and it reads no more messages than every local buffer can take (`LocalChannels.headroom`); when one is
 * full it waits up to STALL_MS for room, after which that buffer's receiver counts as stuck and is no longer waited
 * for. So with consumers that keep up, a group burst of any size is delivered without a drop at default capacity.
 */
export class Inbound {
  private stopped = false
  private readonly loops: Promise<void>[] = []
  private readonly blockedOn: (readonly string[] | undefined)[]
  private readonly wakers: ((() => void) | undefined)[]
  /** Per shard: called once the blocking read in flight is over and what it took has been handed over. */
  private readonly afterRead: (() => void)[][]
  /** Per shard: false once it refused BZMPOP (Redis before 7.0, or an ACL that denies it): BZPOPMIN then. */
  private readonly batchedPop: boolean[]
  /** Hands what is popped from this process's queues to its local channels. */
  private readonly router: ProcessRouter

  constructor(private readonly ctx: InboundContext) {
    this.router = new ProcessRouter(ctx)
    this.blockedOn = ctx.shards.map(() => undefined)
    this.wakers = ctx.shards.map(() => undefined)
    this.afterRead = ctx.shards.map(() => [])
    this.batchedPop = ctx.shards.map(() => true)
  }

  start(): void {
    this.ctx.shards.forEach((_, index) => this.loops.push(this.loop(index)))
  }

  /**
   * A receive on a normal channel: its queue joins the blocking read. Cancelled, it is rejected only once no
   * blocking read that may have taken its message is in flight (`settle`): one already taken is received, never put
   * back behind messages other processes then take.
   */
  receiveNormal(channel: string, signal: AbortSignal | undefined): Promise<Message> {
    const settled = signal === undefined ? undefined : new AbortController()
    const waiting = this.ctx.normal.wait(channel, settled?.signal)
    this.keysChanged()
    if (signal !== undefined && settled !== undefined) {
      const onAbort = (): void => {
        this.settle(channel, () => {
          settled.abort(signal.reason)
        })
      }
      const forget = (): void => {
        signal.removeEventListener('abort', onAbort)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      void waiting.then(forget, forget)
    }
    return waiting
  }

  /** The set of keys to watch changed (a new receive, a new process queue): re-issue stale blocking reads. */
  keysChanged(): void {
    this.ctx.shards.forEach((shard, index) => {
      const waker = this.wakers[index]
      if (waker !== undefined) {
        this.wakers[index] = undefined
        waker()
        return
      }
      const blocked = this.blockedOn[index]
      if (blocked !== undefined && !sameKeys(blocked, this.keysFor(index))) void this.unblock(shard, index, blocked)
    })
  }

  /**
   * Calls `onSettled` once no blocking read that may take `key` is in flight: such reads are cut short (CLIENT
   * UNBLOCK), and a message one of them took has been handed to a waiting receive first. A cancelled receive is
   * rejected only then, so a message popped for it is delivered to it rather than put back, where another
   * process may meanwhile have taken the next one and would then see them out of order. Synchronous when nothing
   * is in flight; bounded by BLOCK_SECONDS when a read hangs (a message it takes later is put back).
   */
  settle(channel: string, onSettled: () => void): void {
    const reads: number[] = []
    this.blockedOn.forEach((blocked, index) => {
      if (blocked?.includes(shardAt(this.ctx.shards, index).keys.queue(channel))) reads.push(index)
    })
    if (reads.length === 0) {
      onSettled()
      return
    }
    let pending = reads.length
    const finish = (): void => {
      if (pending < 0) return
      pending = -1
      clearTimeout(timer)
      onSettled()
    }
    const timer = setTimeout(finish, BLOCK_SECONDS * 1000)
    timer.unref()
    for (const index of reads) {
      this.afterRead[index]?.push(() => {
        if (--pending === 0) finish()
      })
      const shard = this.ctx.shards[index]
      const blocked = this.blockedOn[index]
      if (shard !== undefined && blocked !== undefined) void this.unblock(shard, index, blocked)
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const waker of this.wakers) waker?.()
    this.ctx.local.wakeSpaceWaiters()
    await Promise.allSettled(this.loops)
    this.ctx.shards.forEach((_, index) => {
      this.readOver(index)
    })
  }

  /** Synchronous, before the next read's keys are computed: a receive that settles here is not waited on again. */
  private readOver(index: number): void {
    const callbacks = this.afterRead[index]
    if (callbacks === undefined || callbacks.length === 0) return
    this.afterRead[index] = []
    for (const callback of callbacks) callback()
  }

  // A method, not a field read, so the loop re-reads it after every await.
  private isStopped(): boolean {
    return this.stopped
  }

  private keysFor(index: number): string[] {
    const keys = [...this.ctx.processQueues(index)]
    const queues = shardAt(this.ctx.shards, index).keys
    for (const channel of this.ctx.normal.waitingChannels()) keys.push(queues.queue(channel))
    // Idle workers block here too, rather than polling: one read for the whole process.
    keys.push(...this.ctx.wakeKeys(index))
    keys.push(...this.ctx.pumpKeys(index))
    return keys
  }

  private async loop(index: number): Promise<void> {
    const shard = this.ctx.shards[index]
    if (shard === undefined) return
    while (!this.stopped) {
      this.readOver(index)
      // Computed right before blocking: keysChanged() compares against exactly what is being waited on. Once per
      // read, with the headroom, and again only after an await (a paced group send pays this once per message).
      let keys = this.keysFor(index)
      if (keys.length === 0) {
        await new Promise<void>((resolve) => (this.wakers[index] = resolve))
        continue
      }
      const limit = Math.min(DRAIN_BATCH, this.ctx.minCapacity)
      let room = this.ctx.local.headroom(limit)
      let waited = false
      // Awaited only when a buffer is full: otherwise the read goes out in this same turn.
      if (room === 0) {
        await this.room()
        if (this.isStopped()) return
        waited = true
      }
      let popped: Popped | null
      let batched = false
      let count = 1
      try {
        if (shard.blockingId === undefined) {
          shard.blockingId = await shard.blocking.client('ID')
          waited = true
        }
        if (waited) {
          keys = this.keysFor(index)
          room = this.ctx.local.headroom(limit)
        }
        // Several at once only from process queues (as `drain` takes them): one read per burst, not two.
        batched = this.batchedPop[index] === true && keys.length === this.ctx.processQueues(index).length
        if (batched) count = Math.max(1, room)
        this.blockedOn[index] = keys
        popped = batched
          ? parseBzmpop(
              await shard.blocking.callBuffer('BZMPOP', BLOCK_SECONDS, keys.length, ...keys, 'MIN', 'COUNT', count),
            )
          : parseBzpopmin(await shard.blocking.bzpopminBuffer(...keys, BLOCK_SECONDS))
      } catch (error) {
        this.blockedOn[index] = undefined
        this.readOver(index)
        if (this.isStopped()) return
        if (batched && isRefusedCommand(error)) {
          // Redis before 7.0 has no BZMPOP (or an ACL denies it): BZPOPMIN, then ZPOPMIN to drain, from now on.
          this.batchedPop[index] = false
          continue
        }
        await shard.blockingReady(1_000, error)
        continue
      } finally {
        this.blockedOn[index] = undefined
      }
      if (popped === null) continue
      const { key, entries } = popped
      const [member, score] = entries
      if (member === undefined || score === undefined) continue
      // A process queue first: a paced group send wakes the reader for one message on it, ten times a second, in code
      // too rarely run to be compiled, where each test costs microseconds (the pump's key is a hash and a concatenation).
      if (this.ctx.processQueues(index).includes(key)) {
        const nonLocal = shard.keys.queueName(key)
        this.router.routeEntries(nonLocal, entries)
        // Fewer than asked for: the queue is empty now, and the next blocking read waits for more.
        if (entries.length >= count * 2) await this.drain(shard, key, nonLocal)
        continue
      }
      const woken = this.ctx.wakeChannelOf(index, key)
      if (woken !== undefined) {
        this.ctx.onWake(woken)
      } else if (this.ctx.isPumpKey(key)) {
        this.ctx.onPumped(member, score)
      } else {
        await this.handleNormal(shard, key, member, score)
      }
    }
  }

  /** Takes the rest of a busy process queue in batches: one round trip per burst, not per message. */
  private async drain(shard: RedisShard, key: string, nonLocal: string): Promise<void> {
    for (;;) {
      // Consumers handle what the last read brought before the next is sized: they run in this turn's microtasks.
      await new Promise<void>((resolve) => setImmediate(resolve))
      const count = await this.room()
      if (this.isStopped()) return
      let batch: Buffer[]
      try {
        batch = await shard.blocking.zpopminBuffer(key, count)
      } catch {
        return
      }
      this.router.routeEntries(nonLocal, batch)
      if (batch.length < count * 2) return
    }
  }

  /** How many messages to read now (at least 1): what every local buffer can take, after waiting for room. */
  private async room(): Promise<number> {
    const { local } = this.ctx
    const limit = Math.min(DRAIN_BATCH, this.ctx.minCapacity)
    let room = local.headroom(limit)
    if (room > 0) return room
    await local.waitForSpace(STALL_MS)
    room = local.headroom(limit)
    if (room > 0) return room
    local.markFullStalled()
    return Math.max(1, local.headroom(limit))
  }

  /** Counts what an offer to a local channel did (received, or dropped at capacity): history's offers (RedisGroups). */
  count(result: OfferResult): void {
    this.router.count(result)
  }

  private async handleNormal(shard: RedisShard, key: string, member: Buffer, score: Buffer): Promise<void> {
    const channel = shard.keys.queueName(key)
    const decoded = this.router.decode(member)
    if (decoded === undefined) return
    if (Number(score.toString()) * 1000 + this.ctx.expiryMs <= Date.now()) {
      this.ctx.counters.expired++
      this.ctx.onNormalExpired(channel)
      return
    }
    const historyGroup = groupOfProxy(decoded[RESERVED_ROUTING_KEY])
    const position = historyGroup === undefined ? undefined : positionInPrefix(historyGroup, member)
    if (this.ctx.normal.handToWaiter(channel, freezeMessage(decoded, [RESERVED_ROUTING_KEY], position))) {
      this.ctx.counters.received++
      return
    }
    // The receive was cancelled after BZPOPMIN took the message: put it back where it was.
    try {
      await shard.call((client) => client.zadd(key, score.toString(), member), { idempotent: true })
    } catch (err) {
      this.ctx.log.error({ err, channel }, 'could not return a message to its channel')
    }
  }

  private async unblock(shard: RedisShard, index: number, blocked: readonly string[]): Promise<void> {
    // CLIENT UNBLOCK may reach Redis before the BZPOPMIN it targets; retry briefly while still blocked.
    for (let attempt = 0; attempt < 5 && this.blockedOn[index] === blocked; attempt++) {
      const id = shard.blockingId
      if (id === undefined) return
      try {
        await shard.unblock(id)
      } catch {
        return
      }
      await new Promise((resolve) => setTimeout(resolve, 5 * (attempt + 1)))
    }
  }
}

/** What one blocking pop took: the key, and its members and scores alternating (as ZPOPMIN replies). */
interface Popped {
  readonly key: string
  readonly entries: readonly Buffer[]
}

function parseBzpopmin(reply: [Buffer, Buffer, Buffer] | null): Popped | null {
  if (reply === null) return null
  const [key, member, score] = reply
  return { key: key.toString(), entries: [member, score] }
}

/** BZMPOP's reply (RESP2): null on timeout, else `[key, [[member, score], ...]]`. */
function parseBzmpop(reply: unknown): Popped | null {
  if (!Array.isArray(reply)) return null
  const [key, pairs] = reply as [Buffer, [Buffer, Buffer][]]
  return { key: key.toString(), entries: pairs.flat() }
}

/** Redis does not know the command, or the connection's ACL user may not run it. */
function isRefusedCommand(error: unknown): boolean {
  return error instanceof Error && /unknown command|^NOPERM/i.test(error.message)
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i])
}
