import { RedisUnavailableError } from '../errors.js'
import type { ClaimedTask, TaskSettlement } from '../tasks/task-store.js'
import { RateLimitWait } from './rate-limit-wait.js'
import type { TaskRunnerOptions } from './task-runner-options.js'

/** What the claim loop reads of a TaskRunner's slots, and where the claims it brings go. */
export interface ClaimLoopSlots {
  /** Attempts running plus claims waiting for a slot. */
  occupied(): number
  /** Every claim the runner holds, settling included: once stopping, the loop ends when none is left. */
  held(): number
  /** Moving average of attempt durations (ms), infinite until one ended: decides whether to pipeline. */
  attemptMs(): number
  /** stop() was called: claim nothing more. */
  stopping(): boolean
  /** Runs a claim now if a slot is free, else queues it for the next slot. */
  admit(task: ClaimedTask): void
  /** Returns claims that will not run here to the queue. */
  giveBack(tasks: readonly ClaimedTask[]): Promise<void>
  /** A call recorded settlements: the runner's counters changed. */
  recorded(): void
}

export type ClaimLoopOptions = Pick<
  TaskRunnerOptions,
  'store' | 'channel' | 'concurrency' | 'visibilityMs' | 'idlePollMs' | 'log' | 'rateLimit'
>

/** A settlement waiting for the claim loop to record it, and who waits for that. */
interface PendingSettlement {
  readonly settlement: TaskSettlement
  /** true once recorded; false if the runner closed first (the claim then comes back after its deadline). */
  readonly recorded: (ok: boolean) => void
}

/**
 * The batch loop of a TaskRunner. Attempts that end within one event-loop turn are settled together, in the same
 * store call that claims tasks for the slots they freed (`TaskStore.settle`): on Redis one round trip per batch
 * settles, claims and starts (it was three per task: a worker's CPU went mostly to Redis calls, issue 8). A
 * settlement that cannot be recorded stays held (renewed) and goes with the next call, so a failed call loses
 * nothing. While attempts are short, two calls may be in flight and up to `min(concurrency, 16)` claims wait
 * (held, renewed) for a slot, so Node runs one call's tasks while Redis runs the other call (one call at a time
 * left each side idle half the time).
 */
export class ClaimLoop {
  /** Settlements the loop sends with its next call, in the order attempts ended. */
  private pending: PendingSettlement[] = []
  /** Settle calls on their way (at most MAX_CALLS_IN_FLIGHT). */
  private readonly calls = new Set<Promise<void>>()
  /** Slots the claims of the calls on their way may fill. */
  private reserved = 0
  /** The last claim found nothing: the loop waits for a wake-up (or the fallback poll) before claiming again. */
  private idle = false
  /** The last call failed: the loop waits (up to 1 s) before the next. */
  private failed = false
  /**
   * A call carrying settlements failed as unavailable: the next calls send settlements alone until one is recorded.
   * A store that keeps failing them (a replica wait that times out: `waitForReplicas`) would otherwise take claims on
   * every call, only to give them back (or, when that fails too, leave them to their deadline).
   */
  private settleFirst = false
  /** Set by close(): the loop exits, dropping settlements it could not record. */
  private closed = false
  private wakeUp: (() => void) | undefined
  /** The channel's rate limit held claims back: no claim until the window slides (settlements still go). */
  private readonly limit: RateLimitWait

  constructor(
    private readonly options: ClaimLoopOptions,
    private readonly slots: ClaimLoopSlots,
  ) {
    this.limit = new RateLimitWait(options)
  }

  /** Claims into free slots and sends settlements until close(), then waits for the calls on their way. */
  async run(): Promise<void> {
    const { concurrency } = this.options
    let pollNow = false
    while (!this.closed) {
      // Let every attempt that ends in this turn of the event loop join the batch.
      await nextTick()
      // Prefetch and a second call only pay while attempts are short: a long task hides the round trip anyway,
      // and a claim queued behind it would wait while another worker may be idle.
      const pipelined = this.slots.attemptMs() < PIPELINE_BELOW_MS
      const prefetch = pipelined ? Math.min(concurrency, MAX_PREFETCH) : 0
      if (this.calls.size >= (pipelined ? MAX_CALLS_IN_FLIGHT : 1)) {
        await this.pause()
        continue
      }
      if (this.failed) {
        // A second before the next call, cut short when an attempt ends or the other call returns.
        this.failed = false
        await this.pause(1_000)
        continue
      }
      // Up to `prefetch` claims wait for a slot, so the tasks one call brings can run while the next is in Redis.
      const room = concurrency + prefetch - this.slots.occupied() - this.reserved
      const limitedMs = this.limit.remainingMs()
      const free = this.slots.stopping() || limitedMs > 0 ? 0 : Math.min(room, concurrency)
      if (this.pending.length === 0) {
        const idle = this.idle && !pollNow
        if (free <= 0 || (idle && this.calls.size > 0)) {
          if (this.slots.stopping() && this.slots.held() === 0 && this.calls.size === 0) break
          await this.pause(limitedMs > 0 ? limitedMs : undefined)
          continue
        }
        if (idle) {
          // Nothing queued: wait for a sender's wake-up rather than poll (claims must move atomically, which a
          // blocking pop cannot), or for a running task to end; claim again after idlePollMs at the latest.
          await this.waitForWork()
          pollNow = true
          continue
        }
      }
      pollNow = false
      this.send(this.settleFirst && this.pending.length > 0 ? 0 : Math.max(free, 0))
    }
    await Promise.all(this.calls)
    for (const entry of this.pending.splice(0)) entry.recorded(false)
  }

  /** Queues a settlement for the next call; resolves once it is recorded (false: it never was). */
  settle(settlement: TaskSettlement): Promise<boolean> {
    return new Promise((recorded) => {
      this.pending.push({ settlement, recorded })
      this.wake()
    })
  }

  /** Ends the current wait: an attempt ended, a call returned, or stop() was called. */
  wake(): void {
    this.wakeUp?.()
  }

  /** Makes run() exit after the calls on their way; settlements it could not record are dropped. */
  close(): void {
    this.closed = true
    this.wake()
  }

  /**
   * Sends the pending settlements with a claim for up to `max` slots, without waiting: a second call may go out
   * while this one is in Redis, so Node runs one batch's tasks while Redis settles the other's (one call at a
   * time left each side idle half the time: issue 8).
   */
  private send(max: number): void {
    const batch = this.pending
    this.pending = []
    this.reserved += max
    const call: Promise<void> = this.exchange(batch, max).finally(() => {
      this.calls.delete(call)
      this.wake()
    })
    this.calls.add(call)
  }

  private async exchange(batch: PendingSettlement[], max: number): Promise<void> {
    const { store, channel, visibilityMs, log } = this.options
    let claimed: ClaimedTask[]
    try {
      claimed = await store.settle(
        channel,
        batch.map((entry) => entry.settlement),
        max,
        visibilityMs,
      )
    } catch (err) {
      this.reserved -= max
      this.failed = true
      if (err instanceof RedisUnavailableError) {
        // At-least-once: the claims stay held (and renewed) and their settlements go with the next call.
        this.pending = batch.concat(this.pending)
        if (batch.length > 0) this.settleFirst = true
        log.warn({ err, channel, settling: batch.length }, 'could not settle or claim tasks; retrying')
      } else {
        // Not worth repeating (a script error, a closed layer), and it must not hold up later settlements:
        // these claims come back after their deadline instead.
        for (const entry of batch) entry.recorded(false)
        log.error({ err, channel, settling: batch.length }, 'could not settle or claim tasks')
      }
      return
    }
    // Released in the same turn the claims take their slots (admit() fills the slots synchronously).
    this.reserved -= max
    if (batch.length > 0) this.settleFirst = false
    for (const entry of batch) entry.recorded(true)
    this.slots.recorded()
    if (claimed.length > 0) {
      this.idle = false
      // stop() came while the claim was on its way: nothing may start after the signal.
      if (this.slots.stopping()) await this.slots.giveBack(claimed)
      else for (const task of claimed) this.slots.admit(task)
    } else if (max > 0) {
      this.idle = true
    }
    try {
      if (await this.limit.afterClaim(max, claimed.length)) this.idle = false
    } catch (err) {
      // Not knowing the wait, claim again as if idle: the store still enforces the limit.
      log.warn({ err, channel }, 'could not read the rate limit wait')
    }
  }

  /** Until the store says the channel may have tasks, a running attempt ends, stop() is called, or the poll is due. */
  private async waitForWork(): Promise<void> {
    const { store, channel } = this.options
    const controller = new AbortController()
    const woken = this.pause()
    const timeoutMs = this.options.idlePollMs ?? DEFAULT_IDLE_POLL_MS
    await Promise.race([woken, store.waitForTasks(channel, { timeoutMs, signal: controller.signal })])
    controller.abort()
  }

  private pause(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(finish, ms)
      function finish(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wakeUp = finish
    })
  }
}

/**
 * Settle calls the claim loop keeps on their way: while Redis runs one, Node runs the tasks the other brought,
 * so a worker is not idle while Redis works and Redis is not idle while the worker does.
 */
const MAX_CALLS_IN_FLIGHT = 2

/**
 * How often an idle worker claims anyway (ms): a Django send wakes nobody, so its task waits at most this long
 * for an idle worker; Switchyard's sends, retries and replays wake one at once. With the registry report and the
 * stalled check, an idle channel costs Redis about 1.3 commands a second (`npm run bench -- --only idle`; it
 * polled every 100 ms: about 10).
 */
const DEFAULT_IDLE_POLL_MS = 1_000

/** Attempts shorter than this on average (ms) are pipelined: two calls in flight and prefetched claims. */
const PIPELINE_BELOW_MS = 5

/** Most claims a runner holds beyond `concurrency`, waiting for a slot (fewer when `concurrency` is lower). */
const MAX_PREFETCH = 16

/** Resolves after the current microtask queue has drained: attempts that end together settle together. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => {
    process.nextTick(resolve)
  })
}
