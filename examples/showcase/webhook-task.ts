import {
  NonRetryableError,
  RetryingConsumer,
  type ChannelLayer,
  type FailureInfo,
  type TaskContext,
} from 'switchyard-channels'
import { postWebhook } from './deliver-webhook.js'
import { UnsafeUrlError, type ResolveAll } from './safe-url.js'
import { WEBHOOK_FEED_GROUP, type WebhookDeliver, type WebhookEvent } from './webhooks.js'

export interface WebhookTaskOptions {
  /** Deliver to private, loopback and link-local addresses too (`ALLOW_PRIVATE_WEBHOOKS=1`); local testing only. */
  readonly allowPrivate: boolean
  /**
   * Delay before the first retry, doubling after each. Half a second lets you watch the demo; a real service
   * waits longer (the task default is 10 s), since a receiver that is down rarely comes back that fast.
   * @defaultValue 500
   */
  readonly initialDelayMs?: number
  /** DNS resolution for the SSRF guard, injectable for tests. */
  readonly resolveAll?: ResolveAll
}

/** Statuses that say "try again later" although they are 4xx. */
const RETRYABLE_4XX = new Set([408, 425, 429])

/**
 * The worker side of the webhook demo, for the `webhooks` channel: POSTs the payload to the URL, with the attempt's
 * `ctx.signal` as its timeout. A 2xx is success. 5xx, 408, 425, 429, network errors and timeouts are retried with
 * exponential backoff (3 retries); any other 4xx, a 3xx (redirects are not followed) and a target the SSRF guard
 * refuses are a `NonRetryableError`: dead-lettered at once. Each attempt is announced to the feed group; so is each
 * failure, from the `onFailure` hook (which, being static, gets its layer from this factory).
 *
 * @example
 * ```ts
 * const WebhookTask = createWebhookTask(layer, { allowPrivate: false })
 * ChannelNameRouter({ webhooks: WebhookTask.asApp() })
 * ```
 */
export function createWebhookTask(events: ChannelLayer, options: WebhookTaskOptions): typeof RetryingConsumer {
  const announce = (event: WebhookEvent): Promise<void> => events.groupSend(WEBHOOK_FEED_GROUP, event)

  return class WebhookTask extends RetryingConsumer {
    // A 20 % jitter (never shorter than the schedule) keeps receivers that failed together from being hit together.
    static override retry = {
      maxRetries: 3,
      initialDelayMs: options.initialDelayMs ?? 500,
      factor: 2,
      maxDelayMs: 60_000,
      jitter: 0.2,
    }
    static override timeoutMs = 5_000
    static override concurrency = 8

    static override async onFailure(error: unknown, ctx: TaskContext, info: FailureInfo): Promise<void> {
      await announce({
        type: 'webhook.failed',
        deliveryId: ctx.taskId,
        attempt: ctx.attempt,
        error: error instanceof Error ? error.message : String(error),
        willRetry: info.willRetry,
        delayMs: info.delayMs ?? null,
      })
    }

    async webhook_deliver(task: WebhookDeliver, ctx: TaskContext): Promise<void> {
      if (ctx.taskId !== task.deliveryId) {
        throw new NonRetryableError('webhook.deliver needs idempotencyKey equal to its deliveryId')
      }
      await announce({ type: 'webhook.attempt', deliveryId: task.deliveryId, attempt: ctx.attempt })
      let status: number
      try {
        status = await postWebhook(task.url, task.body, {
          signal: ctx.signal,
          allowPrivate: options.allowPrivate,
          headers: { 'x-switchyard-delivery': task.deliveryId, 'x-switchyard-attempt': String(ctx.attempt) },
          ...(options.resolveAll === undefined ? {} : { resolveAll: options.resolveAll }),
        })
      } catch (error) {
        if (error instanceof UnsafeUrlError) throw new NonRetryableError(error.message, { cause: error })
        throw error
      }
      if (status >= 300 && status < 500 && !RETRYABLE_4XX.has(status)) {
        const why = status < 400 ? 'redirects are not followed' : 'the receiver refused it'
        throw new NonRetryableError(`HTTP ${status}: ${why}`)
      }
      if (status < 200 || status >= 300) throw new Error(`HTTP ${status}`)
      await announce({ type: 'webhook.delivered', deliveryId: task.deliveryId, attempt: ctx.attempt, status })
    }
  }
}
