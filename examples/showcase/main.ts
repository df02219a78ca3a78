/**
 * `npm start`: every demo on http://127.0.0.1:8000 (`PORT` to change it), with a worker in the same process. On
 * the in-memory layer by default; set `REDIS_URL` to share it with other processes, e.g. more workers:
 * `REDIS_URL=redis://127.0.0.1:6379 npx switchyard worker --app examples/showcase/app.ts progress webhooks`.
 */
import { application, channels, layer } from './app.js'
import { mountMonitoring } from './monitoring.js'
import { runExample } from './run.js'

await runExample({
  application,
  layer,
  channels,
  title: 'showcase',
  configure: (app) => mountMonitoring(app, { layer }),
})
