// The dashboard and the layer's periodic tasks (issue 17): `api/state` carries them with their next and last runs
// and never their payloads, the page has the table its script fills, and POST api/schedules/remove removes one
// behind the same guard as the other actions (token, Host, CSRF).
import { afterEach, describe, expect, it } from 'vitest'

import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import type { DashboardState } from '../../src/monitoring/dashboard/dashboard-api.js'
import { bearer, json, startDashboard, stopAll, TOKEN } from './dashboard-server.js'
import { requestWithHost } from './host-request.js'

const JOB = Object.freeze({ type: 'job.run' })

afterEach(stopAll)

const start = (token?: string) => startDashboard(token)

const ids = async (layer: InMemoryChannelLayer): Promise<string[]> =>
  (await layer.tasks.listSchedules()).map((schedule) => schedule.id)

describe('the dashboard and schedules', () => {
  it('lists schedules with next and last runs, without payloads', async () => {
    const { layer, base } = await start()
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

  it('removes a schedule; an unknown id is 404, a bad body 400', async () => {
    const { layer, base } = await start(TOKEN)
    await layer.tasks.schedule('beat', { channel: 'jobs', message: JOB, everyMs: 60_000 })
    await layer.tasks.schedule('nightly', { channel: 'jobs', message: JOB, cron: '0 3 * * *' })
    const remove = (body: unknown): Promise<Response> =>
      fetch(`${base}api/schedules/remove`, {
        method: 'POST',
        headers: { ...bearer, ...json },
        body: JSON.stringify(body),
      })

    const removed = await remove({ id: 'beat' })
    expect(removed.status).toBe(200)
    expect(await removed.json()).toEqual({ id: 'beat', removed: true })
    expect(await ids(layer)).toEqual(['nightly'])

    const again = await remove({ id: 'beat' })
    expect(again.status).toBe(404)
    expect(await again.json()).toMatchObject({ error: 'not-found' })
    for (const body of [{}, { id: 42 }, { id: '' }, { id: 'has space' }, { id: 'x'.repeat(101) }, ['nightly'], null]) {
      const bad = await remove(body)
      expect(bad.status, JSON.stringify(body)).toBe(400)
      expect(await bad.json()).toMatchObject({ error: 'bad-request' })
    }
    expect(await ids(layer)).toEqual(['nightly'])
  })

  it('refuses a removal without the token, cross-site, or to a loopback client under a foreign Host', async () => {
    const { layer, base } = await start(TOKEN)
    await layer.tasks.schedule('guarded', { channel: 'jobs', message: JOB, everyMs: 60_000 })
    const url = `${base}api/schedules/remove`
    const body = JSON.stringify({ id: 'guarded' })
    expect((await fetch(url, { method: 'POST', headers: json, body })).status).toBe(401)
    // A form post (no JSON) and a foreign Origin, even with the token.
    const form = await fetch(url, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=guarded',
    })
    expect(form.status).toBe(415)
    const crossSite = await fetch(url, {
      method: 'POST',
      headers: { ...bearer, ...json, origin: 'http://evil.example' },
      body,
    })
    expect(crossSite.status).toBe(403)

    const loopback = await start()
    await loopback.layer.tasks.schedule('rebound', { channel: 'jobs', message: JOB, everyMs: 60_000 })
    const rebound = await requestWithHost(`${loopback.base}api/schedules/remove`, 'evil.example:8000', {
      method: 'POST',
      headers: { ...json, origin: 'http://evil.example:8000' },
      body: JSON.stringify({ id: 'rebound' }),
    })
    expect(rebound.status).toBe(421)
    expect(await ids(layer)).toEqual(['guarded'])
    expect(await ids(loopback.layer)).toEqual(['rebound'])
  })

  it('serves the page with a Remove button per schedule that confirms, then posts', async () => {
    const { base } = await start(TOKEN)
    const html = await (await fetch(base, { headers: bearer })).text()
    expect(html).toContain("remove.dataset.action = 'remove-schedule'")
    expect(html).toContain("confirm('Remove schedule ' + id")
    expect(html).toContain("api('schedules/remove'")
  })
})
