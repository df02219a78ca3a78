/**
 * The progress demo alone: `npx tsx examples/progress/main.ts`, then open http://127.0.0.1:8000/. The server and a
 * worker for the `progress` channel share one in-memory layer (or Redis with `REDIS_URL`). Its code lives in
 * `examples/showcase/` (`progress-task.ts`, `job-socket.ts`, `jobs-api.ts`); `/sse/` shows the same stream as
 * server-sent events.
 */
import { channelsOf, composeApplication, jobsFeature } from '../showcase/features.js'
import { layerFromEnvironment } from '../showcase/environment.js'
import { pageRoute } from '../showcase/pages.js'
import { runExample } from '../showcase/run.js'

const layer = layerFromEnvironment()
const features = [jobsFeature(layer)]
const pages = [pageRoute('/', 'progress.html'), pageRoute('/sse/', 'sse.html')]

await runExample({
  application: composeApplication(pages, features),
  layer,
  channels: channelsOf(features),
  title: 'progress',
})
