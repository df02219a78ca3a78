// The dashboard lists the layer's periodic tasks (issue 17): `api/state` carries them with their next and last runs
// and never their payloads, and the page has the table its script fills.
import { afterEach, describe, expect, it } from 'vitest'

import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import type { DashboardState } from '../../src/monitoring/dashboard/dashboard-api.js'
import { switchyardDashboard } from '../../src/monitoring/dashboard/dashboard-plugin.js'
import { serve, type RunningServer } from '../../src/server/serve.js'

const idle = async (): Promise<void> => undefined
let running: { server: RunningServer; layer: InMemoryChannelLayer } | undefined

afterEach(async () => {
  await running?.server.close()
  await running?.layer.close()
  running = undefined
})

describe('the dashboard and schedules', () => {
  it('lists schedules with next and last runs, without payloads', async () => {
    const layer = new InMemoryChannelLayer()
    const server = await serve({
      application: idle,
      layer,
      port: 0,
      configure: (app) => app.register(switchyardDashboard, { layer }),
    })
    running = { server, layer }
    const base = `http://127.0.0.1:${server.port}/switchyard/`
    const beat = await layer.tasks.schedule('beat', {
      channel: 'jobs',
      message: { type: 'job.run', secret: 'hidden-payload' },
      everyMs: 60_000,
    })
    await layer.tasks.claimDueSchedules(beat.nextRunMs)

    const response = await fetch(`${base}api/state`)
    expect(response.status).toBe(200)
    const text = await response.text()
    const state = JSON.parse(text) as DashboardState
    expect(state.schedules).toEqual([
      {
        id: 'beat',
        channel: 'jobs',
        type: 'job.run',
        everyMs: 60_000,
        catchUp: 'one',
        nextRunMs: beat.nextRunMs + 60_000,
        lastRunMs: beat.nextRunMs,
      },
    ])
    expect(text).not.toContain('hidden-payload')
    const page = await (await fetch(base)).text()
    expect(page).toContain('<table id="schedules">')
    expect(page).toContain('function renderSchedules(schedules)')
  })
})
