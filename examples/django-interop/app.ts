/**
 * A Node page that shows, live, what Django sends to the group `updates`: Django's
 * `async_to_sync(get_channel_layer().group_send)("updates", {"type": "update.message", ...})` reaches every socket
 * connected here, because both sides use one Redis with channels_redis' key prefix and message format.
 */
import { readFileSync } from 'node:fs'

import {
  AllowedHostsOriginValidator,
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  route,
  URLRouter,
  type Handlers,
} from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'
import { assetRoutes, StaticFile } from '../showcase/pages.js'

/** What Django's `send_update.py` (or your view) sends to the group; its fields are up to you. */
export type UpdateEvent = {
  readonly type: 'update.message'
  readonly text: string
  /** Unix seconds, as Python's `time.time()` gives them. */
  readonly sentAt: number
  readonly source: string
}

/** The group Django sends to. */
export const UPDATES_GROUP = 'updates'

/** `/ws/updates/`: in the group for as long as the socket is open; forwards each `update.message` to the page. */
export class UpdatesConsumer extends JsonWebsocketConsumer<unknown, UpdateEvent> implements Handlers<UpdateEvent> {
  static override groups = [UPDATES_GROUP]

  // The Python dict's "type" picks this method, exactly as a Django consumer's `update_message` would be.
  async update_message(event: UpdateEvent): Promise<void> {
    await this.sendJson({ type: 'update.message', text: event.text, sentAt: event.sentAt, source: event.source })
  }
}

const page = readFileSync(new URL('page.html', import.meta.url))

export const application = ProtocolTypeRouter({
  http: URLRouter([
    route('/', StaticFile.asApp({ body: page, contentType: 'text/html; charset=utf-8' })),
    ...assetRoutes(),
  ]),
  websocket: AllowedHostsOriginValidator(URLRouter([route('/ws/updates/', UpdatesConsumer.asApp())])),
})

const redisUrl = process.env.REDIS_URL
if (redisUrl === undefined || redisUrl === '') {
  throw new Error('Set REDIS_URL (e.g. redis://127.0.0.1:6379/0): Django and this page meet on Redis')
}

/** channels_redis' defaults: prefix `asgi` (or CHANNELS_PREFIX, as on the Django side), msgpack, unencrypted. */
export const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix: process.env.CHANNELS_PREFIX ?? 'asgi' })
