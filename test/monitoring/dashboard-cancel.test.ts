// The dashboard's "Cancel a task" action over real HTTP: POST api/tasks/cancel cancels through the layer's task
// store, behind the same guard as the dead-letter actions (token, Host, CSRF), and the page carries its form.
import { afterEach, describe, expect, it } from 'vitest'

import { bearer, json, startDashboard, stopAll, TOKEN } from './dashboard-server.js'
import { requestWithHost } from './host-request.js'

afterEach(stopAll)

const start = (token?: string) => startDashboard(token, { taskChannels: ['jobs'] })

describe('dashboard: cancel a task', () => {
  it('cancels a queued task, then reports it already cancelled; unknown ids are 404, bad bodies 400', async () => {
    const { layer, base } = await start(TOKEN)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'welcome-42' })
    const cancel = (body: unknown): Promise<Response> =>
      fetch(`${base}api/tasks/cancel`, { method: 'POST', headers: { ...bearer, ...json }, body: JSON.stringify(body) })

    const first = await cancel({ taskId: 'welcome-42' })
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ taskId: 'welcome-42', before: 'queued', cancelled: true })
    expect(await layer.tasks.getTaskState('welcome-42')).toMatchObject({ status: 'cancelled' })
    expect(await (await cancel({ taskId: 'welcome-42' })).json()).toEqual({
      taskId: 'welcome-42',
      before: 'cancelled',
      cancelled: false,
    })
    expect(await layer.tasks.claim('jobs', 10, 30_000)).toEqual([])

    const unknown = await cancel({ taskId: 'nobody' })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ error: 'not-found' })
    for (const body of [{}, { taskId: 42 }, { taskId: '' }, ['welcome-42'], null]) {
      const bad = await cancel(body)
      expect(bad.status, JSON.stringify(body)).toBe(400)
    }
  })

  it('is refused without the token, cross-site, or to a loopback client under a foreign Host', async () => {
    const { layer, base } = await start(TOKEN)
    await layer.send('jobs', { type: 'job.run', idempotencyKey: 'guarded' })
    const body = JSON.stringify({ taskId: 'guarded' })
    expect((await fetch(`${base}api/tasks/cancel`, { method: 'POST', headers: json, body })).status).toBe(401)
    // A form post (no JSON) and a foreign Origin, even with the token.
    const form = await fetch(`${base}api/tasks/cancel`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'taskId=guarded',
    })
    expect(form.status).toBe(415)
    const crossSite = await fetch(`${base}api/tasks/cancel`, {
      method: 'POST',
      headers: { ...bearer, ...json, origin: 'http://evil.example' },
      body,
    })
    expect(crossSite.status).toBe(403)

    const loopback = await start()
    await loopback.layer.send('jobs', { type: 'job.run', idempotencyKey: 'rebound' })
    const rebound = await requestWithHost(`${loopback.base}api/tasks/cancel`, 'evil.example:8000', {
      method: 'POST',
      headers: { ...json, origin: 'http://evil.example:8000' },
      body: JSON.stringify({ taskId: 'rebound' }),
    })
    expect(rebound.status).toBe(421)
    expect(await layer.tasks.getTaskState('guarded')).toMatchObject({ status: 'queued' })
    expect(await loopback.layer.tasks.getTaskState('rebound')).toMatchObject({ status: 'queued' })
  })

  it('serves the page with the cancel form and its script', async () => {
    const { base } = await start(TOKEN)
    const html = await (await fetch(base, { headers: bearer })).text()
    expect(html).toContain('id="cancel-task"')
    expect(html).toContain("api('tasks/cancel'")
  })
})
