/**
 * The showcase as a module for the `switchyard` command (and for `main.ts`):
 *
 *   npx switchyard serve --app examples/showcase/app.ts
 *   npx switchyard worker --app examples/showcase/app.ts progress webhooks
 *
 * On the in-memory layer the two would not share anything; run them as separate processes with `REDIS_URL` set.
 */
import { allowPrivateWebhooks, layerFromEnvironment } from './environment.js'
import { createShowcase } from './showcase.js'

export const layer = layerFromEnvironment()

const showcase = createShowcase({ layer, allowPrivateWebhooks: allowPrivateWebhooks() })

export const application = showcase.application
/** The worker channels: `progress` and `webhooks`. */
export const channels = showcase.channels
