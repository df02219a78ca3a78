/**
 * The server-sent events demo alone: `npx tsx examples/sse/main.ts`, then open http://127.0.0.1:8000/. The stream
 * is `JobEventStream` (`examples/showcase/job-event-stream.ts`), an `HttpConsumer`; the jobs come from the same
 * worker as the progress demo, running in this process.
 */
import { channelsOf, composeApplication, jobsFeature } from '../showcase/features.js'
import { layerFromEnvironment } from '../showcase/environment.js'
import { pageRoute } from '../showcase/pages.js'
import { runExample } from '../showcase/run.js'

const layer = layerFromEnvironment()
const features = [jobsFeature(layer)]

await runExample({
  application: composeApplication([pageRoute('/', 'sse.html')], features),
  layer,
  channels: channelsOf(features),
  title: 'server-sent events',
})
