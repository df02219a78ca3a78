import { LayerClosedError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import type { Logger } from '../logger.js'
import type { ScheduleStore } from '../tasks/schedules/schedule-store.js'

export interface ScheduleLoopOptions {
  readonly layer: ChannelLayer
  /** The layer's task store (`layer.tasks`). */
  readonly schedules: ScheduleStore
  readonly log: Logger
  /**
   * The longest wait between two looks at the schedules: a schedule added by another process is seen this late.
   * @defaultValue 1000
   */
  readonly pollMs?: number
}

export interface ScheduleLoop {
  /** Stops polling; resolves once the current round (claims and sends) has finished. Idempotent. */
  stop(): Promise<void>
}

/** The shortest wait, so a schedule that stays due (its claim fails over and over) cannot spin the loop. */
const MIN_WAIT_MS = 25

/**
 * Fires due schedules from a worker (issue 17): claims the due ticks (each tick goes to one worker of all those on
 * the layer), sends each with the `idempotencyKey` `schedule:<id>:<tick ms>`, then sleeps until the next run, at
 * most `pollMs`. A tick whose send fails is logged and not retried: it was claimed, and the next tick comes. The
 * loop ends by itself once the layer is closed.
 *
 * @example
 * ```ts
 * const loop = startScheduleLoop({ layer, schedules: layer.tasks, log })
 * await loop.stop()
 * ```
 */
export function startScheduleLoop(options: ScheduleLoopOptions): ScheduleLoop {
  const { layer, schedules, log } = options
  const pollMs = options.pollMs ?? 1000
  const stopping = new AbortController()

  const round = async (): Promise<number> => {
    for (const tick of await schedules.claimDueSchedules()) {
      const message = { ...tick.message, idempotencyKey: `schedule:${tick.id}:${tick.tickMs}` }
      try {
        await layer.send(tick.channel, message)
      } catch (error) {
        log.warn({ schedule: tick.id, channel: tick.channel, err: error }, 'schedule tick not sent')
      }
    }
    const next = await schedules.nextScheduleRunMs()
    return next === undefined ? pollMs : Math.min(pollMs, Math.max(MIN_WAIT_MS, next - Date.now()))
  }

  const run = (async () => {
    while (!stopping.signal.aborted) {
      let waitMs = pollMs
      try {
        waitMs = await round()
      } catch (error) {
        // A closed layer never reopens: retrying would only log this warning every pollMs until stop().
        if (error instanceof LayerClosedError) {
          log.info({}, 'layer closed; schedules no longer fired here')
          return
        }
        log.warn({ err: error }, 'schedules not read; retrying')
      }
      await sleep(waitMs, stopping.signal)
    }
  })()

  return {
    async stop() {
      stopping.abort()
      await run
    },
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve()
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
