import type { Message } from '../../layers/channel-layer.js'
import {
  assertScheduleId,
  resolveScheduleOptions,
  type ScheduleOptions,
  type ScheduleSpec,
} from './schedule-options.js'
import { claimTick, firstRunMs } from './next-run.js'

/** A schedule as `listSchedules()` returns it: its definition, next run and last run. */
export interface ScheduleInfo extends ScheduleSpec {
  readonly id: string
  /** Unix ms of the next tick. */
  readonly nextRunMs: number
  /** Unix ms of the last tick fired, if any. */
  readonly lastRunMs?: number
}

/** One tick a worker claimed: it, and no other process, sends `message` to `channel`. */
export interface ScheduleTick {
  readonly id: string
  readonly channel: string
  readonly message: Message
  /** The tick's time (unix ms): with the id, the sent message's `idempotencyKey`. */
  readonly tickMs: number
}

/**
 * Periodic tasks (issue 17): schedules kept in the layer (on Redis they survive restarts), fired by every worker
 * on it, each tick exactly once across all of them: claiming a tick is one atomic compare-and-set of the
 * schedule's next run, so there is no leader process.
 *
 * @example
 * ```ts
 * await layer.tasks.schedule('nightly-report', { channel: 'reports', message: { type: 'report.build' }, cron: '0 3 * * *' })
 * await layer.tasks.listSchedules() // [{ id: 'nightly-report', nextRunMs: ..., ... }]
 * await layer.tasks.unschedule('nightly-report')
 * ```
 */
export interface ScheduleStore {
  /** Creates or redefines schedule `id`; its next run is computed from now. Resolves to it as stored. */
  schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo>
  /** Removes schedule `id`; resolves to whether it existed. */
  unschedule(id: string): Promise<boolean>
  /** Every schedule, soonest next run first. */
  listSchedules(): Promise<ScheduleInfo[]>
  /**
   * Claims the ticks due at `nowMs` (what a worker does): each tick is returned to exactly one caller, which sends
   * it. A schedule behind by several ticks yields one (see `catchUp`).
   */
  claimDueSchedules(nowMs?: number): Promise<ScheduleTick[]>
  /** The soonest next run of any schedule (unix ms), or undefined when there is none. */
  nextScheduleRunMs(): Promise<number | undefined>
}

/** A schedule as a backend keeps it. */
export interface StoredSchedule {
  readonly id: string
  readonly spec: ScheduleSpec
  readonly nextRunMs: number
  readonly lastRunMs: number | undefined
}

/** What a backend implements for `Schedules`: storage and one atomic step. */
export interface ScheduleRecords {
  /** Stores `spec` with `nextRunMs` (keeping a redefined schedule's last run). */
  put(id: string, spec: ScheduleSpec, nextRunMs: number): Promise<void>
  remove(id: string): Promise<boolean>
  /** Every schedule, by next run. */
  list(): Promise<StoredSchedule[]>
  /** Up to `limit` schedules whose next run is at or before `nowMs`. */
  due(nowMs: number, limit: number): Promise<StoredSchedule[]>
  /**
   * Atomically: if schedule `id`'s next run is still `expectedNextRunMs`, sets it to `nextRunMs` (and its last run
   * to `firedMs` unless undefined) and resolves to true; else (another worker claimed it, or it was redefined or
   * removed) changes nothing and resolves to false.
   */
  advance(id: string, expectedNextRunMs: number, nextRunMs: number, firedMs: number | undefined): Promise<boolean>
  earliest(): Promise<number | undefined>
}

/** Schedules claimed per call: a fleet with more due at once claims the rest on its next poll. */
const CLAIM_BATCH = 100

/**
 * The schedule logic every backend shares: validation and tick computation here, storage in `ScheduleRecords`.
 * `assertOpen(operation)` throws `LayerClosedError` once the layer is closed: checked first on every call, as the
 * rest of the task store does, so a closed layer fails the same way whatever is asked of it.
 */
export class Schedules implements ScheduleStore {
  constructor(
    private readonly records: ScheduleRecords,
    private readonly assertOpen: (operation: string) => void,
  ) {}

  async schedule(id: string, options: ScheduleOptions): Promise<ScheduleInfo> {
    this.assertOpen('define a schedule')
    const spec = resolveScheduleOptions(id, options)
    const nextRunMs = firstRunMs(spec, Date.now())
    await this.records.put(id, spec, nextRunMs)
    return { id, ...spec, nextRunMs }
  }

  async unschedule(id: string): Promise<boolean> {
    this.assertOpen('remove a schedule')
    assertScheduleId(id)
    return this.records.remove(id)
  }

  async listSchedules(): Promise<ScheduleInfo[]> {
    this.assertOpen('list schedules')
    return (await this.records.list()).map(toInfo)
  }

  async claimDueSchedules(nowMs = Date.now()): Promise<ScheduleTick[]> {
    this.assertOpen('claim due schedules')
    const ticks: ScheduleTick[] = []
    for (const stored of await this.records.due(nowMs, CLAIM_BATCH)) {
      // Read after the index said due (on Redis, not atomically with it): another worker may have claimed it since.
      if (stored.nextRunMs > nowMs) continue
      const { fireMs, nextRunMs } = claimTick(stored.spec, stored.nextRunMs, nowMs)
      if (!(await this.records.advance(stored.id, stored.nextRunMs, nextRunMs, fireMs))) continue
      if (fireMs === undefined) continue
      ticks.push({ id: stored.id, channel: stored.spec.channel, message: stored.spec.message, tickMs: fireMs })
    }
    return ticks
  }

  async nextScheduleRunMs(): Promise<number | undefined> {
    this.assertOpen('read the next schedule run')
    return this.records.earliest()
  }
}

function toInfo(stored: StoredSchedule): ScheduleInfo {
  return {
    id: stored.id,
    ...stored.spec,
    nextRunMs: stored.nextRunMs,
    ...(stored.lastRunMs === undefined ? {} : { lastRunMs: stored.lastRunMs }),
  }
}
