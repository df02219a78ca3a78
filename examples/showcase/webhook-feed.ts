import { JsonWebsocketConsumer, type Handlers } from 'switchyard-channels'
import { WEBHOOK_FEED_GROUP, type WebhookEvent } from './webhooks.js'

/**
 * `/ws/webhooks/`: every delivery attempt as it happens (`webhook.attempt`, `webhook.delivered`,
 * `webhook.failed`). The page treats each as a cue to reload `GET /api/webhooks/`, the source of truth; whatever the
 * client sends is ignored.
 */
export class WebhookFeed extends JsonWebsocketConsumer<unknown, WebhookEvent> implements Handlers<WebhookEvent> {
  static override groups = [WEBHOOK_FEED_GROUP]

  async webhook_attempt(event: Extract<WebhookEvent, { type: 'webhook.attempt' }>): Promise<void> {
    await this.sendJson(event)
  }

  async webhook_delivered(event: Extract<WebhookEvent, { type: 'webhook.delivered' }>): Promise<void> {
    await this.sendJson(event)
  }

  async webhook_failed(event: Extract<WebhookEvent, { type: 'webhook.failed' }>): Promise<void> {
    await this.sendJson(event)
  }
}
