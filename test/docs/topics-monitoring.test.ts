/**
 * docs/topics/monitoring.md: the page's main.ts served on 127.0.0.1 (PORT=0), without and with MONITORING_TOKEN:
 * the dashboard page and its API, who gets in, the metrics a scrape reads (with the page's curl command), and the
 * worker and backlog monitor it starts.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

import type { ChannelLayer, WorkerHandle } from 'switchyard-channels'
import type { BacklogMonitor, DashboardState } from 'switchyard-channels/monitoring'

import { waitFor } from '../support/wait.js'
import { docBlock, docProject, shellCommands } from './doc-blocks.js'

const PAGE = 'docs/topics/monitoring.md'
const TOKEN = 'a-monitoring-token-for-tests'
const run = promisify(execFile)

interface Main {
  server: {
    url: string
    port: number
    app: { inject: (request: object) => Promise<InjectResponse> }
    close(): Promise<void>
  }
  worker: WorkerHandle
  backlog: BacklogMonitor
}
interface InjectResponse {
  statusCode: number
  body: string
}

const started: { main: Main; layer: ChannelLayer }[] = []
const savedEnv = { PORT: process.env.PORT, MONITORING_TOKEN: process.env.MONITORING_TOKEN }

/** Imports a fresh copy of the page's main.ts (and its app.ts), serving on a free port. */
async function start(token: string | undefined): Promise<{ main: Main; layer: ChannelLayer }> {
  process.env.PORT = '0'
  if (token === undefined) delete process.env.MONITORING_TOKEN
  else process.env.MONITORING_TOKEN = token
  const project = await docProject('docs/topics/monitoring.md', ['app.ts', 'main.ts'])
  const main = await project.import<Main>('main.ts')
  const { layer } = await project.import<{ layer: ChannelLayer }>('app.ts')
  started.push({ main, layer })
  return { main, layer }
}

function restore(key: 'PORT' | 'MONITORING_TOKEN', value: string | undefined): void {
  if (value === undefined) Reflect.deleteProperty(process.env, key)
  else process.env[key] = value
}

afterEach(async () => {
  for (const { main, layer } of started.splice(0)) {
    await main.worker.stop()
    await main.server.close()
    main.backlog.stop()
    await layer.close()
  }
  restore('PORT', savedEnv.PORT)
  restore('MONITORING_TOKEN', savedEnv.MONITORING_TOKEN)
})

describe(PAGE, () => {
  it('without a token: the dashboard, its API and /metrics for this machine, by a loopback name only', async () => {
    const { main, layer } = await start(undefined)
    const { url } = main.server
    const page = await fetch(`${url}/switchyard/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')

    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws/echo/`)
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    await layer.send('thumbnails', { type: 'thumbnail.make', imageId: 7 })
    let state: DashboardState | undefined
    await waitFor('the worker to report a processed task', async () => {
      state = (await (await fetch(`${url}/switchyard/api/state`)).json()) as DashboardState
      return state.snapshot?.workers.some((worker) => worker.processed === 1) === true
    })
    expect(state?.connections?.stats).toMatchObject({ connections: 1 })
    expect(state?.backlog).toEqual({ alerts: [] })

    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^switchyard_connections 1$/m)
    expect(metrics).toMatch(/^switchyard_task_duration_seconds_count\{channel="thumbnails",outcome="succeeded"\} 1$/m)
    socket.close()

    // With no worker running, tasks wait: over the threshold (50), the monitor's next check raises an alert.
    await main.worker.stop()
    for (let imageId = 0; imageId < 60; imageId++) await layer.send('thumbnails', { type: 'thumbnail.make', imageId })
    await main.backlog.check()
    const alerted = (await (await fetch(`${url}/switchyard/api/state`)).json()) as DashboardState
    expect(alerted.backlog?.alerts).toEqual([
      { channel: 'thumbnails', backlog: 60, threshold: 50, pattern: 'thumbnails' },
    ])
    const overMetrics = await (await fetch(`${url}/metrics`)).text()
    expect(overMetrics).toMatch(/^switchyard_channel_backlog\{channel="thumbnails"\} 60$/m)
    expect(overMetrics).toMatch(/^switchyard_channel_backlog_threshold\{channel="thumbnails"\} 50$/m)
    expect(overMetrics).toMatch(/^switchyard_channel_backlog_over_threshold\{channel="thumbnails"\} 1$/m)

    const rebound = { host: 'evil.example' }
    expect((await main.server.app.inject({ url: '/switchyard/', headers: rebound })).statusCode).toBe(421)
    expect((await main.server.app.inject({ url: '/metrics', headers: rebound })).statusCode).toBe(421)
  })

  it('with MONITORING_TOKEN: a bearer token or the session cookie, and the curl command scrapes', async () => {
    const { main } = await start(TOKEN)
    const { url, port } = main.server
    expect((await fetch(`${url}/switchyard/`)).status).toBe(401)
    expect((await fetch(`${url}/metrics`)).status).toBe(401)
    const bearer = { authorization: `Bearer ${TOKEN}` }
    expect((await fetch(`${url}/switchyard/api/state`, { headers: bearer })).status).toBe(200)

    const opened = await fetch(`${url}/switchyard/?token=${TOKEN}`, { redirect: 'manual' })
    expect(opened.status).toBe(303)
    expect(opened.headers.get('location')).toBe('/switchyard/')
    const cookie = opened.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
    const withCookie = await fetch(`${url}/switchyard/`, { headers: { cookie: cookie.split(';')[0]! } })
    expect(withCookie.status).toBe(200)

    const [curl] = shellCommands(docBlock('docs/topics/monitoring.md', 'scrape'))
    expect(curl).toContain('http://127.0.0.1:8000/metrics')
    const { stdout } = await run('sh', ['-c', curl!.replace(':8000/', `:${port}/`)], {
      env: { ...process.env, MONITORING_TOKEN: TOKEN },
    })
    expect(stdout).toMatch(/^switchyard_connections 0$/m)
  })
})
