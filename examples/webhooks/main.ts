/**
 * The webhook demo alone: `npx tsx examples/webhooks/main.ts`, then open http://127.0.0.1:8000/. With
 * `ALLOW_PRIVATE_WEBHOOKS=1` the SSRF guard lets deliveries reach private addresses, such as the local flaky
 * receiver at `/webhook-receiver/`. The code lives in `examples/showcase/` (`webhook-task.ts`, `safe-url.ts`,
 * `deliver-webhook.ts`, `webhooks-api.ts`).
 */
import { channelsOf, composeApplication, webhooksFeature } from '../showcase/features.js'
import { allowPrivateWebhooks, layerFromEnvironment } from '../showcase/environment.js'
import { pageRoute } from '../showcase/pages.js'
import { runExample } from '../showcase/run.js'

const layer = layerFromEnvironment()
const features = [webhooksFeature(layer, { allowPrivate: allowPrivateWebhooks() })]

await runExample({
  application: composeApplication([pageRoute('/', 'webhooks.html')], features),
  layer,
  channels: channelsOf(features),
  title: 'webhooks',
})
