/** The webhook demo's vocabulary: the task, the feed events, and what the JSON API lists. */
import type { TaskStatus } from 'switchyard-channels'

/** The background channel webhook deliveries are sent to. */
export const WEBHOOKS_CHANNEL = 'webhooks'

/** The group `/ws/webhooks/` sockets are in: every delivery's attempts are announced there. */
export const WEBHOOK_FEED_GROUP = 'webhooks.feed'

/** Largest payload accepted, in bytes of JSON text. */
export const MAX_WEBHOOK_BODY_BYTES = 16_384

/** The task on `WEBHOOKS_CHANNEL`: POST `body` (JSON text) to `url`. The task id is the delivery id. */
export type WebhookDeliver = {
  readonly type: 'webhook.deliver'
  readonly deliveryId: string
  readonly idempotencyKey: string
  readonly url: string
  readonly body: string
}

/** What the feed group receives after each attempt (and at its start). */
export type WebhookEvent =
  | { readonly type: 'webhook.attempt'; readonly deliveryId: string; readonly attempt: number }
  | {
      readonly type: 'webhook.delivered'
      readonly deliveryId: string
      readonly attempt: number
      readonly status: number
    }
  | {
      readonly type: 'webhook.failed'
      readonly deliveryId: string
      readonly attempt: number
      readonly error: string
      readonly willRetry: boolean
      readonly delayMs: number | null
    }

/** One delivery as `GET /api/webhooks/` lists it. */
export interface DeliveryRow {
  readonly deliveryId: string
  readonly url: string
  readonly createdAt: number
  /** `queued` until a worker claims it. */
  readonly status: TaskStatus
  readonly attempts: number
  readonly lastError: string | null
}

/** One dead letter as `GET /api/webhooks/` lists it. */
export interface DeadLetterRow {
  readonly id: string
  readonly deliveryId: string
  readonly url: string
  readonly error: string
  readonly attempts: number
  readonly diedAt: number
}

/** `url` without its user name and password, for lists and pages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    return parsed.href
  } catch {
    return url
  }
}
