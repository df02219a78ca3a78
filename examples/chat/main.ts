/** `npx tsx examples/chat/main.ts`: the chat app on http://127.0.0.1:8000 (PORT to change it). */
import { serve } from 'switchyard-channels'
import { application, layer } from './app.js'

const server = await serve({ application, layer, host: '127.0.0.1', port: Number(process.env.PORT ?? 8000) })
console.log(`Switchyard chat: open ${server.url}/?room=lobby in two tabs`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => layer.close())
  })
}
