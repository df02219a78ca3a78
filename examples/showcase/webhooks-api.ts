import { randomUUID } from 'node:crypto'

import { HttpConsumer, type TaskStore } from 'switchyard-channels'
import type { DeliveryRegistry } from './delivery-registry.js'
import { methodOf, readJsonBody, respondJson } from './json-io.js'
import { assertPublicTarget, parseWebhookUrl, UnsafeUrlError } from './safe-url.js'
import {
  displayUrl,
  MAX_WEBHOOK_BODY_BYTES,
  WEBHOOKS_CHANNEL,
  type DeadLetterRow,
  type DeliveryRow,
  type WebhookDeliver,
} from './webhooks.js'

/** Where the local test receiver is mounted (`webhook-receiver.ts`). */
export const RECEIVER_PATH = '/webhook-receiver/'

const MAX_URL_LENGTH = 2048

/**
 * `/api/webhooks/`: `POST { url, payload }` queues a delivery (202 `{ deliveryId }`); a URL the SSRF guard refuses
 * is a 400 with the reason, at once (the worker checks again when it connects, for DNS can change in between).
 * `payload` is JSON text or any JSON value. `GET` lists this process's deliveries with their task state, and the
 * channel's dead letters: `{ allowPrivate, receiverPath, deliveries, deadLetters }`.
 */
export class WebhooksApi extends HttpConsumer {
  /** Where delivery states and dead letters are read from (the layer's task store). */
  tasks!: TaskStore
  registry!: DeliveryRegistry
  /** `ALLOW_PRIVATE_WEBHOOKS=1`: skip the SSRF guard (local testing only). */
  allowPrivate = false

  override async handle(body: Uint8Array): Promise<void> {
    const method = methodOf(this.scope)
    if (method === 'GET') await respondJson(this, 200, await this.snapshot())
    else if (method === 'POST') await this.register(body)
    else await respondJson(this, 405, { error: 'GET or POST' })
  }

  private async register(body: Uint8Array): Promise<void> {
    const request = readJsonBody(this.scope, body)
    if (!request.ok) {
      await respondJson(this, request.status, { error: request.error })
      return
    }
    const { url: rawUrl, payload } = request.value
    if (typeof rawUrl !== 'string' || rawUrl.length > MAX_URL_LENGTH) {
      await respondJson(this, 400, { error: `\`url\` is a string of at most ${MAX_URL_LENGTH} characters` })
      return
    }
    const text = payloadText(payload)
    if (text === undefined || Buffer.byteLength(text) > MAX_WEBHOOK_BODY_BYTES) {
      await respondJson(this, 400, { error: `\`payload\` is JSON of at most ${MAX_WEBHOOK_BODY_BYTES} bytes` })
      return
    }
    let url: URL
    try {
      url = parseWebhookUrl(rawUrl)
      if (!this.allowPrivate) await assertPublicTarget(url)
    } catch (error) {
      if (!(error instanceof UnsafeUrlError)) throw error
      await respondJson(this, 400, { error: error.message })
      return
    }
    const deliveryId = randomUUID()
    const task: WebhookDeliver = {
      type: 'webhook.deliver',
      deliveryId,
      idempotencyKey: deliveryId,
      url: url.href,
      body: text,
    }
    try {
      await this.channelLayer.send(WEBHOOKS_CHANNEL, task)
    } catch (error) {
      this.log.warn({ err: error }, 'could not queue a webhook delivery')
      await respondJson(this, 503, { error: 'the delivery queue is full or unavailable; try again shortly' })
      return
    }
    this.registry.add({ deliveryId, url: displayUrl(url.href), createdAt: Date.now() })
    await respondJson(this, 202, { deliveryId })
  }

  private async snapshot(): Promise<object> {
    const deliveries = await Promise.all(
      this.registry.list().map(async (delivery): Promise<DeliveryRow> => {
        const state = await this.tasks.getTaskState(delivery.deliveryId)
        return {
          ...delivery,
          status: state?.status ?? 'queued',
          attempts: state?.attempts ?? 0,
          lastError: state?.lastError ?? null,
        }
      }),
    )
    const letters = await this.tasks.listDeadLetters(WEBHOOKS_CHANNEL, { limit: 50 })
    const deadLetters = letters.map((letter): DeadLetterRow => ({
      id: letter.id,
      deliveryId: letter.taskId,
      url: typeof letter.message.url === 'string' ? displayUrl(letter.message.url) : '',
      error: letter.error,
      attempts: letter.attempts,
      diedAt: letter.diedAt,
    }))
    return { allowPrivate: this.allowPrivate, receiverPath: RECEIVER_PATH, deliveries, deadLetters }
  }
}

/** `POST /api/webhooks/dead-letters/:id/replay/`: puts one dead letter back on the channel, attempts reset. */
export class ReplayApi extends HttpConsumer {
  tasks!: TaskStore

  override async handle(body: Uint8Array): Promise<void> {
    const id = this.scope.urlRoute?.kwargs.id
    if (methodOf(this.scope) !== 'POST') {
      await respondJson(this, 405, { error: 'POST only' })
      return
    }
    const request = readJsonBody(this.scope, body) // an empty object will do; required for the CSRF checks
    if (!request.ok) await respondJson(this, request.status, { error: request.error })
    else if (typeof id !== 'string') await respondJson(this, 404, { error: 'no such dead letter' })
    else {
      const replayed = await this.tasks.replayDeadLetters(WEBHOOKS_CHANNEL, [id])
      await respondJson(this, replayed === 0 ? 404 : 200, { replayed })
    }
  }
}

/** The payload as JSON text: a string must already be JSON; any other JSON value is serialised. */
function payloadText(payload: unknown): string | undefined {
  if (payload === undefined) return undefined
  if (typeof payload !== 'string') return JSON.stringify(payload)
  try {
    JSON.parse(payload)
    return payload
  } catch {
    return undefined
  }
}
