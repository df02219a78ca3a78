/**
 * `REDIS_URL=redis://127.0.0.1:6379/0 npx tsx examples/django-interop/main.ts`: the page on http://127.0.0.1:8000
 * (`PORT` to change it). Then, from Django, `send_update.py` (see README.md) pushes a message to every open page.
 */
import { serve } from 'switchyard-channels'
import { application, layer } from './app.js'

await layer.ready() // fails fast, naming the host, when Redis is not there
const server = await serve({ application, layer, host: '127.0.0.1' })
console.log(`Switchyard + Django: open ${server.url}/ and run django_side/send_update.py (see the README)`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => layer.close())
  })
}
