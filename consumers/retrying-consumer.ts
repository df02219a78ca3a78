import type { InputEvent, Receive, Scope, Send } from '../src/application.js'
import { TaskSetupError } from '../src/errors.js'
import { resolveRateLimit, type RateLimit } from '../src/tasks/rate-limit.js'
import type { Message } from '../src/layers/channel-layer.js'
import { hasTaskStore } from '../src/tasks/task-store.js'
import { AsyncConsumer } from './async-consumer.js'
import { resolveRetryOptions } from '../src/worker/backoff.js'
import { findHandler } from '../src/consumer-runtime/dispatch.js'
import type { RetryOptions, TaskContext } from '../src/worker/retry-options.js'
import { TaskRunner, type FailureInfo } from '../src/worker/task-runner.js'

/** How long a worker waits for running tasks on shutdown before returning them to the queue. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000

/**
 * A background consumer with what Channels' workers never had: at-least-once delivery, retries with backoff,
 * per-attempt timeouts, idempotency and dead letters. Serve it from a worker (`switchyard worker`, or
 * `runWorker`) on a channel; plain `send`s to that channel (from Node or Django) become tasks.
 *
 * Handlers are methods named after the message type, as in every consumer, and get a {@link TaskContext}:
 * `email.send` runs `email_send(message, ctx)`. A throw retries after a backoff delay; `NonRetryableError` (or
 * `retryOn(error)` returning false) sends the task straight to dead letters; so does exhausting `maxRetries`.
 * Tasks may run more than once (a worker can die after the work, before the ack): keep them idempotent.
 *
 * @example
 * ```ts
 * class SendEmail extends RetryingConsumer {
 *   static retry = { maxRetries: 5, initialDelayMs: 10_000, factor: 2, maxDelayMs: 600_000, jitter: 'full' }
 *   static timeoutMs = 30_000
 *   async email_send(msg: { type: 'email.send'; userId: number }, ctx: TaskContext) {
 *     await mailer.send(await users.get(msg.userId), { signal: ctx.signal })
 *   }
 * }
 * export const application = ProtocolTypeRouter({ channel: ChannelNameRouter({ emails: SendEmail.asApp() }) })
 * ```
 */
export class RetryingConsumer extends AsyncConsumer {
  /** Retry policy; missing fields come from DEFAULT_RETRY (10 s, doubling to 10 min, 5 retries, 20 % jitter). */
  static retry: Partial<RetryOptions> = {}
  /** Per-attempt timeout, ms: the handler's `ctx.signal` aborts and the attempt counts as failed. */
  static timeoutMs = 30_000
  /** A claim invisible to other workers this long (renewed while the task runs); a dead worker's tasks return after it. */
  static visibilityMs = 30_000
  /**
   * How often an idle worker claims anyway, ms. Switchyard's sends, retries and replays wake an idle worker at
   * once; a Django (channels_redis) send cannot, so its task waits up to this long for an idle worker.
   */
  static idlePollMs = 1_000
  /** Keep handler return values in the task state (off: results are not stored unless asked for). */
  static storeResults = false
  /**
   * At most `max` tasks of the channel start in any `perMs` window, counting every worker together (checked where
   * claims happen, atomically); tasks over it wait queued, they do not fail. Each worker declares it for its
   * channel when it starts: the last to start sets it, and a worker without one removes it.
   * @defaultValue undefined (no limit)
   */
  static rateLimit: RateLimit | undefined = undefined
  /** Random source for jitter (inject a fixed one in tests). */
  static random: () => number = Math.random

  /** Whether an error is worth retrying; false sends the task to dead letters at once. */
  static retryOn(_error: unknown): boolean {
    return true
  }

  /** Called after every failed attempt (e.g. to report to an error tracker). Errors thrown here are logged. */
  static async onFailure(_error: unknown, _ctx: TaskContext, _info: FailureInfo): Promise<void> {
    // Override me.
  }

  private runner: TaskRunner | undefined

  /** The runner's counters (processed, failed, retried, dead, skipped duplicates, in flight). */
  get taskStats(): TaskRunner['stats'] | undefined {
    return this.runner?.stats
  }

  override async run(scope: Scope, receive: Receive, send: Send): Promise<void> {
    if (scope.type !== 'channel') {
      throw new TaskSetupError(
        `${this.constructor.name} serves background channels from a worker, not ${scope.type} scopes`,
      )
    }
    await this.attach(scope, send)
    const layer = scope.channelLayer
    if (!hasTaskStore(layer)) {
      throw new TaskSetupError(
        `${this.constructor.name} needs a channel layer with a task store (InMemoryChannelLayer or RedisChannelLayer)`,
      )
    }
    const Consumer = this.constructor as typeof RetryingConsumer
    const concurrency = typeof scope.concurrency === 'number' ? scope.concurrency : Consumer.concurrency
    const runner = new TaskRunner({
      store: layer.tasks,
      channel: scope.channel,
      concurrency,
      visibilityMs: Consumer.visibilityMs,
      idlePollMs: Consumer.idlePollMs,
      timeoutMs: Consumer.timeoutMs,
      ...rateLimitOption(Consumer.rateLimit),
      retry: resolveRetryOptions(Consumer.retry),
      storeResults: Consumer.storeResults,
      log: this.log,
      retryOn: (error) => Consumer.retryOn(error),
      random: () => Consumer.random(),
      handle: (message, ctx) => this.handleTask(message, ctx),
      onFailure: (error, ctx, info) => Consumer.onFailure(error, ctx, info),
    })
    this.runner = runner
    const running = runner.run()
    const shutdown = await waitForShutdown(receive)
    await runner.stop(shutdown.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS)
    await running
  }

  /** Runs the handler for the task's type with its context. */
  protected async handleTask(message: Message, ctx: TaskContext): Promise<unknown> {
    const handler = findHandler(this, message.type) as unknown as (message: Message, ctx: TaskContext) => unknown
    return await handler.call(this, message, ctx)
  }
}

/** `{ rateLimit }` validated and frozen, or nothing when there is no limit. */
function rateLimitOption(value: unknown): { rateLimit?: RateLimit } {
  const rateLimit = resolveRateLimit(value)
  return rateLimit === undefined ? {} : { rateLimit }
}

/** Resolves when the worker delivers its shutdown event (or the input ends). */
async function waitForShutdown(receive: Receive): Promise<{ graceMs?: number }> {
  for (;;) {
    let event: InputEvent
    try {
      event = await receive()
    } catch {
      return {}
    }
    if ((event as { readonly type: string }).type === 'switchyard.shutdown') {
      const graceMs: unknown = (event as { graceMs?: unknown }).graceMs
      return typeof graceMs === 'number' ? { graceMs } : {}
    }
  }
}
