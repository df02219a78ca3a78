import type { Application, InputEvent, Scope } from '../application.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import { assertChannelName } from '../layers/names.js'
import { defaultLogger, type Logger } from '../logger.js'
import { hasTaskStore } from '../tasks/task-store.js'
import { startScheduleLoop } from './schedule-loop.js'

export interface WorkerOptions {
  /** Usually `ProtocolTypeRouter({ channel: ChannelNameRouter({ ... }) })`. */
  readonly application: Application
  readonly layer: ChannelLayer
  /** The background channels this worker serves; several workers may share a channel. */
  readonly channels: readonly string[]
  /** Overrides each consumer's `static concurrency` (tasks handled at once per channel). */
  readonly concurrency?: number
  /**
   * On stop, how long running tasks may finish before they are returned to the queue (which waits as long again at
   * most: a Redis that does not answer must not hold the worker).
   */
  readonly shutdownTimeoutMs?: number
  readonly logger?: Logger
  /**
   * Whether this worker fires the layer's due schedules (`layer.tasks.schedule`); each tick fires once across all
   * the workers that do.
   * @defaultValue true
   */
  readonly schedules?: boolean
}

export interface WorkerHandle {
  /** Resolves when every channel's consumer has stopped; rejects if one crashed. */
  readonly done: Promise<void>
  /** Stops taking messages, lets running ones finish (bounded), returns the rest, and resolves when done. */
  stop(): Promise<void>
}

/**
 * Runs one application instance per channel (Channels' `runworker`): each gets a `channel` scope and pulls its
 * own messages from the layer (a RetryingConsumer with at-least-once claims, a BackgroundConsumer with plain
 * receives). `stop()` delivers `switchyard.shutdown` to each, with the grace period.
 *
 * @example
 * ```ts
 * const worker = runWorker({ application, layer, channels: ['emails', 'thumbnails'] })
 * process.once('SIGTERM', () => void worker.stop())
 * await worker.done
 * ```
 */
export function runWorker(options: WorkerOptions): WorkerHandle {
  if (options.channels.length === 0) throw new TypeError('runWorker needs at least one channel')
  for (const channel of options.channels) assertChannelName(channel)
  const log = (options.logger ?? defaultLogger()).child({ worker: process.pid })
  const graceMs = options.shutdownTimeoutMs ?? 30_000
  const inboxes = options.channels.map(() => new ShutdownInbox())
  const runs = options.channels.map(async (channel, index) => {
    const scope: Scope = {
      type: 'channel',
      channel,
      channelLayer: options.layer,
      logger: log,
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    }
    log.info({ channel }, 'worker serving channel')
    const inbox = inboxes[index]
    if (inbox === undefined) return
    await options.application(
      scope,
      () => inbox.next(),
      async () => {
        // A background consumer has no client: it talks through the channel layer only.
      },
    )
  })
  const schedules =
    options.schedules !== false && hasTaskStore(options.layer)
      ? startScheduleLoop({ layer: options.layer, schedules: options.layer.tasks, log })
      : undefined
  const done = Promise.all(runs).then(() => undefined)
  let stopping: Promise<void> | undefined
  return {
    done,
    stop() {
      stopping ??= (async () => {
        log.info({ graceMs }, 'worker stopping')
        for (const inbox of inboxes) inbox.shutdown(graceMs)
        await Promise.all([done, schedules?.stop()])
        log.info({}, 'worker stopped')
      })()
      return stopping
    },
  }
}

/** The `receive()` of a worker's application: nothing until shutdown. */
class ShutdownInbox {
  private event: InputEvent | undefined
  private waiter: ((event: InputEvent) => void) | undefined

  next(): Promise<InputEvent> {
    if (this.event !== undefined) return Promise.resolve(this.event)
    return new Promise((resolve) => (this.waiter = resolve))
  }

  shutdown(graceMs: number): void {
    this.event = { type: 'switchyard.shutdown', graceMs } as unknown as InputEvent
    this.waiter?.(this.event)
  }
}
