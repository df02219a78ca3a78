import { parseCron } from './parse-cron.js'
import type { ScheduleSpec } from './schedule-options.js'

/**
 * A tick claimed later than this after its time counts as missed: with `catchUp: 'none'` it is skipped. Workers
 * poll at least once a second, so a tick of a running fleet is claimed well within it.
 */
export const ON_TIME_MS = 2000

/** At most this many missed cron ticks are walked to find the latest; past it the schedule restarts from now. */
const MAX_CRON_STEPS = 10_000

/** The first run of a new (or redefined) schedule: `everyMs` after now, or the cron's next time after now. */
export function firstRunMs(spec: ScheduleSpec, nowMs: number): number {
  if (spec.everyMs !== undefined) return nowMs + spec.everyMs
  return cronAfter(spec, nowMs)
}

/** What claiming a due schedule does: fire once for `fireMs` (unless undefined: skipped), then wait for `nextRunMs`. */
export interface TickClaim {
  /** The tick to fire (the latest one due), or undefined when `catchUp: 'none'` skips a late one. */
  readonly fireMs: number | undefined
  /** The first tick after now. */
  readonly nextRunMs: number
}

/**
 * For a schedule due at `dueMs` (at or before `nowMs`): the latest due tick and the next one after now. However
 * many ticks were missed, at most one fires: `catchUp: 'one'` fires the latest, `'none'` fires it only when it is
 * on time (within `ON_TIME_MS`).
 */
export function claimTick(spec: ScheduleSpec, dueMs: number, nowMs: number): TickClaim {
  let latest: number
  let nextRunMs: number
  if (spec.everyMs !== undefined) {
    latest = dueMs + Math.floor((nowMs - dueMs) / spec.everyMs) * spec.everyMs
    nextRunMs = latest + spec.everyMs
  } else {
    latest = dueMs
    nextRunMs = cronAfter(spec, latest)
    for (let step = 0; nextRunMs <= nowMs; step++) {
      if (step === MAX_CRON_STEPS) {
        nextRunMs = cronAfter(spec, nowMs)
        break
      }
      latest = nextRunMs
      nextRunMs = cronAfter(spec, latest)
    }
  }
  const onTime = nowMs - latest <= ON_TIME_MS
  return { fireMs: spec.catchUp === 'one' || onTime ? latest : undefined, nextRunMs }
}

function cronAfter(spec: ScheduleSpec, afterMs: number): number {
  const next = parseCron(spec.cron ?? '', spec.timezone ?? 'UTC').nextRun(new Date(afterMs))
  // A cron with no future time (a past year): never again.
  return next === null ? Number.MAX_SAFE_INTEGER : next.getTime()
}
