// A server with the dashboard on an in-memory layer, for the HTTP tests of the dashboard's task actions; `stopAll`
// (in afterEach) closes every one started.
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import type { TaskStoreLayerOptions } from '../../src/tasks/task-store-options.js'
import { switchyardDashboard } from '../../src/monitoring/dashboard/dashboard-plugin.js'
import { serve } from '../../src/server/serve.js'

export const TOKEN = 'a-dashboard-token-for-tests'
export const bearer = { authorization: `Bearer ${TOKEN}` }
export const json = { 'content-type': 'application/json' }

const cleanups: (() => Promise<void>)[] = []

/** Starts a dashboard (with `token` when given) on a new layer; resolves to the layer and the dashboard's base URL. */
export async function startDashboard(
  token?: string,
  layerOptions: TaskStoreLayerOptions = {},
): Promise<{ layer: InMemoryChannelLayer; base: string }> {
  const layer = new InMemoryChannelLayer(layerOptions)
  const server = await serve({
    application: async () => undefined,
    layer,
    port: 0,
    configure: (app) => app.register(switchyardDashboard, { layer, ...(token === undefined ? {} : { token }) }),
  })
  cleanups.push(async () => {
    await server.close()
    await layer.close()
  })
  return { layer, base: `${server.url}/switchyard/` }
}

export async function stopAll(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
}
