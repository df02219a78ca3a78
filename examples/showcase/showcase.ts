import type { Application } from 'switchyard-channels'
import {
  channelsOf,
  chatFeature,
  composeApplication,
  jobsFeature,
  webhooksFeature,
  type TaskLayer,
} from './features.js'
import { pageRoute } from './pages.js'
import type { ProgressTiming } from './progress-task.js'

export interface ShowcaseOptions {
  /** Shared by the server and the worker: in memory for one process, Redis for several. */
  readonly layer: TaskLayer
  /**
   * Deliver webhooks to private, loopback and link-local addresses (the local receiver among them).
   * @defaultValue false
   */
  readonly allowPrivateWebhooks?: boolean
  /** The progress demo's pace. */
  readonly progressTiming?: ProgressTiming
  /** Delay before a webhook's first retry. */
  readonly webhookRetryDelayMs?: number
}

/** The showcase application, and the channels its worker serves. */
export interface Showcase {
  readonly application: Application
  readonly channels: readonly string[]
}

/**
 * Every demo in one application: the index at `/`, `/chat/`, `/progress/`, `/webhooks/` and `/sse/`, their APIs
 * and sockets, and the `progress` and `webhooks` worker channels. Serve it and run a worker on the same layer.
 *
 * @example
 * ```ts
 * const layer = new InMemoryChannelLayer()
 * const { application, channels } = createShowcase({ layer })
 * await serve({ application, layer })
 * runWorker({ application, layer, channels })
 * ```
 */
export function createShowcase(options: ShowcaseOptions): Showcase {
  const features = [
    chatFeature(),
    jobsFeature(options.layer, options.progressTiming),
    webhooksFeature(options.layer, {
      allowPrivate: options.allowPrivateWebhooks ?? false,
      ...(options.webhookRetryDelayMs === undefined ? {} : { initialDelayMs: options.webhookRetryDelayMs }),
    }),
  ]
  const pages = [
    pageRoute('/', 'index.html'),
    pageRoute('/chat/', 'chat.html'),
    pageRoute('/progress/', 'progress.html'),
    pageRoute('/webhooks/', 'webhooks.html'),
    pageRoute('/sse/', 'sse.html'),
  ]
  return { application: composeApplication(pages, features), channels: channelsOf(features) }
}
