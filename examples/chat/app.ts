/**
 * The chat application: a page at `/` and the chat socket at `/ws/chat/:room/`. `switchyard serve --app
 * examples/chat/app.ts` serves it too; `main.ts` adds nothing but the port.
 */
import { readFileSync } from 'node:fs'

import {
  HttpConsumer,
  InMemoryChannelLayer,
  type ChannelLayer,
  AllowedHostsOriginValidator,
  ProtocolTypeRouter,
  URLRouter,
  route,
} from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'
import { ChatConsumer } from './chat-consumer.js'

const page = readFileSync(new URL('page.html', import.meta.url))

/** Serves the chat page. */
class ChatPage extends HttpConsumer {
  override async handle(): Promise<void> {
    await this.sendResponse(200, page, { headers: { 'content-type': 'text/html; charset=utf-8' } })
  }
}

export const application = ProtocolTypeRouter({
  http: URLRouter([route('/', ChatPage.asApp())]),
  // Same-origin by default: a page on another site cannot open sockets with your users' cookies.
  websocket: AllowedHostsOriginValidator(URLRouter([route('/ws/chat/:room/', ChatConsumer.asApp())])),
})

/** In memory (one process) unless REDIS_URL is set: then every process on that Redis shares the rooms. */
export const layer: ChannelLayer =
  process.env.REDIS_URL === undefined || process.env.REDIS_URL === ''
    ? new InMemoryChannelLayer()
    : new RedisChannelLayer({ hosts: [process.env.REDIS_URL] })
