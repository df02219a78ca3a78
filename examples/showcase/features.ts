/**
 * The showcase's demos as building blocks: each feature is the HTTP routes, socket routes and worker channels of
 * one demo, without its page, so the showcase mounts them all and `examples/progress/` (and the others) mount one
 * with its page at `/`.
 */
import {
  AllowedHostsOriginValidator,
  ChannelNameRouter,
  ProtocolTypeRouter,
  route,
  URLRouter,
  type Application,
  type ChannelLayer,
  type RouteEntry,
  type TaskCapableLayer,
} from 'switchyard-channels'
import { ChatRoomConsumer } from './chat-room-consumer.js'
import { DeliveryRegistry } from './delivery-registry.js'
import { JobEventStream } from './job-event-stream.js'
import { JobSocket } from './job-socket.js'
import { PROGRESS_CHANNEL } from './jobs.js'
import { JobsApi, JobStateApi } from './jobs-api.js'
import { LoopbackHostsOnly } from './loopback-hosts-only.js'
import { assetRoutes } from './pages.js'
import { createProgressTask, DEFAULT_PROGRESS_TIMING, type ProgressTiming } from './progress-task.js'
import { ReceiverLog, WebhookReceiver } from './webhook-receiver.js'
import { WebhookFeed } from './webhook-feed.js'
import { createWebhookTask, type WebhookTaskOptions } from './webhook-task.js'
import { RECEIVER_PATH, ReplayApi, WebhooksApi } from './webhooks-api.js'
import { WEBHOOKS_CHANNEL } from './webhooks.js'

/** A layer that runs RetryingConsumers: both built-in layers are. */
export type TaskLayer = ChannelLayer & TaskCapableLayer

/** One demo's server side. */
export interface Feature {
  readonly http: readonly RouteEntry[]
  readonly websocket: readonly RouteEntry[]
  /** Background channels and their consumers, for the worker. */
  readonly channels: Readonly<Record<string, Application>>
}

/** Chat rooms with presence: `/ws/chat/:room/`. */
export function chatFeature(): Feature {
  return { http: [], websocket: [route('/ws/chat/:room/', ChatRoomConsumer.asApp())], channels: {} }
}

/**
 * Progress jobs: `POST /api/jobs/`, `GET /api/jobs/:jobId/`, the socket `/ws/jobs/:jobId/`, the event stream
 * `/events/jobs/:jobId/`, and the `progress` channel's worker.
 */
export function jobsFeature(layer: TaskLayer, timing: ProgressTiming = DEFAULT_PROGRESS_TIMING): Feature {
  const tasks = layer.tasks
  return {
    http: [
      route('/api/jobs/', JobsApi.asApp({ tasks })),
      route('/api/jobs/:jobId/', JobStateApi.asApp({ tasks })),
      route('/events/jobs/:jobId/', JobEventStream.asApp({ tasks })),
    ],
    websocket: [route('/ws/jobs/:jobId/', JobSocket.asApp({ tasks }))],
    channels: { [PROGRESS_CHANNEL]: createProgressTask(timing).asApp() },
  }
}

/**
 * Webhook deliveries: `GET|POST /api/webhooks/`, replaying dead letters, the local test receiver, the feed socket
 * `/ws/webhooks/`, and the `webhooks` channel's worker.
 */
export function webhooksFeature(layer: TaskLayer, options: WebhookTaskOptions): Feature {
  const tasks = layer.tasks
  return {
    http: [
      route(
        '/api/webhooks/',
        WebhooksApi.asApp({ tasks, registry: new DeliveryRegistry(), allowPrivate: options.allowPrivate }),
      ),
      route('/api/webhooks/dead-letters/:id/replay/', ReplayApi.asApp({ tasks })),
      route(RECEIVER_PATH, WebhookReceiver.asApp({ calls: new ReceiverLog() })),
    ],
    websocket: [route('/ws/webhooks/', WebhookFeed.asApp())],
    channels: { [WEBHOOKS_CHANNEL]: createWebhookTask(layer, options).asApp() },
  }
}

/**
 * One application from features and pages: HTTP routes first (pages, then the client module and stylesheet),
 * sockets behind `AllowedHostsOriginValidator` (same-origin only), and the worker channels. HTTP and sockets answer
 * loopback host names only (`LoopbackHostsOnly`): nothing here asks who you are, so a DNS-rebound page must not get in.
 */
export function composeApplication(pages: readonly RouteEntry[], features: readonly Feature[]): Application {
  return ProtocolTypeRouter({
    http: LoopbackHostsOnly(URLRouter([...pages, ...assetRoutes(), ...features.flatMap((feature) => feature.http)])),
    websocket: LoopbackHostsOnly(
      AllowedHostsOriginValidator(URLRouter(features.flatMap((feature) => feature.websocket))),
    ),
    channel: ChannelNameRouter(Object.fromEntries(features.flatMap((feature) => Object.entries(feature.channels)))),
  })
}

/** The worker channels of `features`, for `runWorker` and `switchyard worker`. */
export function channelsOf(features: readonly Feature[]): string[] {
  return features.flatMap((feature) => Object.keys(feature.channels))
}
