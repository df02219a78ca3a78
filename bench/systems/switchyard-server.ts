/**
 * Switchyard under test, in its own process: `serve()` on the Redis layer with an echo consumer at `/echo/`
 * and a group member at `/fanout/`. Configured by BENCH_REDIS_URL, BENCH_PREFIX and BENCH_GROUP; with
 * BENCH_CLUSTER_URLS (the `switchyard-cluster` variant) the layer runs on that Redis Cluster instead; with
 * BENCH_HISTORY_SIZE (the `switchyard-history` variant) the group keeps a history, and each member forwards the
 * message's `__position__` with it, as an app that lets its clients recover would.
 */
// The package by its name, as users import it: the built package in dist/ (see harness/spawn-child.ts).
import {
  JsonWebsocketConsumer,
  ProtocolTypeRouter,
  RedisChannelLayer,
  URLRouter,
  route,
  serve,
  type Handlers,
} from 'switchyard-channels'
import { announceServer } from '../harness/server-child.js'
import { historyOption, layerServers, requireEnv } from './env.js'

const group = requireEnv('BENCH_GROUP')

/** What the fan-out publisher sends through the layer. */
interface BenchEvent {
  readonly type: 'bench.message'
  readonly seq: number
  readonly sentAt: number
}

/** Echoes every JSON message back. */
class EchoConsumer extends JsonWebsocketConsumer {
  override async receiveJson(content: unknown): Promise<void> {
    await this.sendJson(content)
  }
}

/**
 * Joins the fan-out group and forwards each group message to its client as it is, declared (`static forward`), as
 * the docs have users forward a group's messages: the client reads `seq` and `sentAt`, and every member shares one
 * encoding.
 */
class MemberConsumer extends JsonWebsocketConsumer {
  static override groups = [group]
  static override forward = ['bench.message']
}

/**
 * The same with Channels' usual handler (`await self.send_json(event)`), run with BENCH_MEMBER=handler: what a
 * handler per member costs beside the declaration (about twice the server CPU per delivery in the 1 000-client
 * fan-out on 2026-12-07).
 */
class HandlerMemberConsumer extends JsonWebsocketConsumer implements Handlers<BenchEvent> {
  static override groups = [group]

  async bench_message(event: BenchEvent): Promise<void> {
    await this.sendJson(event)
  }
}

const Member = process.env.BENCH_MEMBER === 'handler' ? HandlerMemberConsumer : MemberConsumer

// Default settings (capacity 100 per channel): the issue asks for 0 lost without tuning.
const layer = new RedisChannelLayer({
  ...layerServers(requireEnv('BENCH_REDIS_URL')),
  prefix: requireEnv('BENCH_PREFIX'),
  history: historyOption(group),
})
await layer.ready()
const application = ProtocolTypeRouter({
  websocket: URLRouter([route('/echo/', EchoConsumer.asApp()), route('/fanout/', Member.asApp())]),
})
const server = await serve({ application, layer, host: '127.0.0.1', port: 0 })
announceServer(server.port, async () => {
  await server.close()
  await layer.close()
})
