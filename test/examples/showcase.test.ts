// The showcase's server side over real sockets: the app served with serve({ port: 0 }) and a worker in the same
// process on one in-memory layer, as `npm start` runs them. Browsers are the e2e suite's job.
import { randomBytes } from 'node:crypto'

import { afterEach, describe, expect, it } from 'vitest'
import type WebSocket from 'ws'

import type { RunningServer } from '../../src/server/serve.js'
import { InMemoryChannelLayer } from '../../src/layers/memory/memory-layer.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { CHAT_LAYER_OPTIONS } from '../../examples/showcase/chat-room-consumer.js'
import { createShowcase } from '../../examples/showcase/showcase.js'
import { mountMonitoring } from '../../examples/showcase/monitoring.js'
import { MAX_JSON_DEPTH, nestingDepth } from '../../examples/showcase/json-io.js'
import type { DeadLetterRow, DeliveryRow } from '../../examples/showcase/webhooks.js'
import { requestWithHost } from '../monitoring/host-request.js'
import { client, connect, refusal, startServer } from '../server/helpers.js'
import { waitFor } from '../support/wait.js'

interface Started {
  readonly server: RunningServer
  readonly layer: InMemoryChannelLayer
  readonly worker: WorkerHandle
}

const started: Started[] = []

afterEach(async () => {
  for (const { server, layer, worker } of started.splice(0)) {
    await worker.stop()
    await server.close()
    await layer.close()
  }
})

async function startShowcase({ allowPrivateWebhooks = false, monitoring = false } = {}): Promise<Started> {
  const layer = new InMemoryChannelLayer(CHAT_LAYER_OPTIONS)
  const { application, channels } = createShowcase({
    layer,
    allowPrivateWebhooks,
    progressTiming: { stepMs: 20, retryDelayMs: 200 },
    webhookRetryDelayMs: 100,
  })
  const server = await startServer(application, {
    layer,
    ...(monitoring ? { configure: (app) => mountMonitoring(app, { layer, env: {} }) } : {}),
  })
  const worker = runWorker({ application, layer, channels, shutdownTimeoutMs: 1_000 })
  const entry = { server, layer, worker }
  started.push(entry)
  return entry
}

type Json = Record<string, unknown>

/** Every JSON message a socket receives, in order, with a wait for the one that matches. */
class Inbox {
  readonly messages: Json[] = []

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString()) as Json))
  }

  async next(what: string, match: (message: Json) => boolean, from = 0): Promise<Json> {
    let found: Json | undefined
    await waitFor(what, () => (found = this.messages.slice(from).find(match)) !== undefined)
    return found!
  }

  ofType(type: string): Json[] {
    return this.messages.filter((message) => message.type === type)
  }
}

/** Opens a socket, listening before the handshake ends: a snapshot sent right after accept may come with it. */
async function openSocket(server: RunningServer, path: string): Promise<Inbox> {
  const socket = client(`${server.url.replace(/^http/, 'ws')}${path}`, undefined, { origin: server.url })
  const inbox = new Inbox(socket)
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return inbox
}

function postJson(server: RunningServer, path: string, body: unknown, headers: Json = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(headers as Record<string, string>) },
    body: JSON.stringify(body),
  })
}

const newJobId = (): string => randomBytes(12).toString('hex')

describe('examples/showcase', () => {
  it('serves the index, every page, the stylesheet and the browser client', async () => {
    const { server } = await startShowcase()
    const index = await (await fetch(`${server.url}/`)).text()
    for (const path of ['/chat/?room=lobby', '/progress/', '/webhooks/', '/sse/']) {
      expect(index).toContain(`href="${path}"`)
      const page = await fetch(`${server.url}${path}`)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toContain('text/html')
    }
    for (const path of ['/chat/', '/progress/', '/webhooks/']) {
      expect(await (await fetch(`${server.url}${path}`)).text()).toContain("from '/static/switchyard-client.js'")
    }
    const client = await fetch(`${server.url}/static/switchyard-client.js`)
    expect(client.status).toBe(200)
    expect(client.headers.get('content-type')).toContain('text/javascript')
    expect(await client.text()).toMatch(/export\s*\{[^}]*connect/)
    expect((await fetch(`${server.url}/static/showcase.css`)).headers.get('content-type')).toContain('text/css')
    expect((await fetch(`${server.url}/progress/`, { method: 'POST' })).status).toBe(405)
  })

  it('shows who is online in a chat room, across joins, renames, messages and leaves', async () => {
    const { server } = await startShowcase()
    const alice = await openSocket(server, '/ws/chat/lobby/')
    alice.socket.send(JSON.stringify({ type: 'chat.join', name: 'alice' }))
    await alice.next('alice alone', (m) => m.type === 'presence.list' && equal(m.names, ['alice']))

    const bob = await openSocket(server, '/ws/chat/lobby/')
    const elsewhere = await openSocket(server, '/ws/chat/kitchen/')
    elsewhere.socket.send(JSON.stringify({ type: 'chat.join', name: 'carol' }))
    bob.socket.send(JSON.stringify({ type: 'chat.join', name: 'bob' }))
    // Each hears the layer's presence.join of bob and sends its page the room's presence list.
    await bob.next('bob sees both', (m) => m.type === 'presence.list' && equal(m.names, ['alice', 'bob']))
    await alice.next('alice sees both', (m) => m.type === 'presence.list' && equal(m.names, ['alice', 'bob']))

    bob.socket.send(JSON.stringify({ type: 'chat.join', name: 'robert' }))
    await alice.next('the rename', (m) => m.type === 'presence.list' && equal(m.names, ['alice', 'robert']))

    bob.socket.send(JSON.stringify({ type: 'chat.message', text: ' hello alice ' }))
    expect(await alice.next('the message', (m) => m.type === 'chat.message')).toMatchObject({
      name: 'robert',
      text: 'hello alice',
    })
    const seen = alice.messages.length
    bob.socket.close()
    await alice.next('bob gone', (m) => m.type === 'presence.list' && equal(m.names, ['alice']), seen)

    // Rooms are apart, and input is checked.
    expect(elsewhere.ofType('chat.message')).toEqual([])
    expect(elsewhere.ofType('presence.list').at(-1)).toMatchObject({ type: 'presence.list', names: ['carol'] })
    alice.socket.send(JSON.stringify({ type: 'chat.message', text: '' }))
    alice.socket.send(JSON.stringify(['not', 'an', 'object']))
    await waitFor('two errors', () => alice.ofType('chat.error').length === 2)
    const stranger = await openSocket(server, '/ws/chat/lobby/')
    stranger.socket.send(JSON.stringify({ type: 'chat.message', text: 'hi' }))
    expect(await stranger.next('an error', (m) => m.type === 'chat.error')).toMatchObject({
      error: expect.stringContaining('join') as string,
    })
  })

  it('joins a room with the URL’s name, and replays what a reconnecting page missed after switchyard.recovery', async () => {
    const { server } = await startShowcase()
    const ann = await openSocket(server, '/ws/chat/recovering/?name=ann')
    const start = await ann.next('the first recovery frame', (m) => m.type === 'switchyard.recovery')
    expect(start).not.toHaveProperty('recovered')
    await ann.next('ann online', (m) => m.type === 'presence.list' && equal(m.names, ['ann']))
    ann.socket.send(JSON.stringify({ type: 'chat.message', text: 'one' }))
    const one = await ann.next('her message', (m) => m.type === 'chat.message')
    const position = one.__position__ as { group: string; offset: number; epoch: string }
    expect(position.group).toBe('chat.recovering')
    ann.socket.close()

    const bob = await openSocket(server, '/ws/chat/recovering/?name=bob')
    bob.socket.send(JSON.stringify({ type: 'chat.message', text: 'while ann was away' }))
    await bob.next('his message', (m) => m.type === 'chat.message')
    const handBack = encodeURIComponent(`${position.group}:${position.offset}:${position.epoch}`)
    const back = await openSocket(server, `/ws/chat/recovering/?name=ann&__position__=${handBack}`)
    await back.next('recovered', (m) => m.type === 'switchyard.recovery' && m.recovered === true)
    const missed = await back.next('the missed message', (m) => m.type === 'chat.message')
    expect(missed).toMatchObject({ name: 'bob', text: 'while ann was away' })
    expect(back.messages.findIndex((m) => m.type === 'switchyard.recovery')).toBe(0)
    await back.next('both online', (m) => m.type === 'presence.list' && equal(m.names, ['ann', 'bob']))
  })

  it('runs a progress job to 100 % with exactly one retry, ending succeeded', async () => {
    const { server, layer } = await startShowcase()
    const jobId = newJobId()
    const job = await openSocket(server, `/ws/jobs/${jobId}/`)
    await job.next('the initial snapshot', (m) => m.type === 'job.state' && m.status === 'unknown')

    const posted = await postJson(server, '/api/jobs/', { jobId, injectFailure: true })
    expect(posted.status).toBe(202)
    expect(await posted.json()).toEqual({ jobId })
    await job.next('job.done', (m) => m.type === 'job.done')

    expect(job.ofType('job.retrying')).toEqual([
      {
        type: 'job.retrying',
        jobId,
        attempt: 1,
        error: 'injected failure at 40 %, first attempt only',
        delayMs: 200,
      },
    ])
    const steps = job.ofType('job.progress').map((m) => `${String(m.attempt)}:${String(m.percent)}`)
    expect(steps).toEqual(['1:10', '1:20', '1:30', ...[10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((p) => `2:${p}`)])
    expect(job.ofType('job.done')).toEqual([{ type: 'job.done', jobId, attempts: 2 }])

    await waitFor('the task to succeed', async () => (await layer.tasks.getTaskState(jobId))?.status === 'succeeded')
    const state = (await (await fetch(`${server.url}/api/jobs/${jobId}/`)).json()) as Json
    expect(state).toMatchObject({ type: 'job.state', jobId, status: 'succeeded', attempts: 2 })

    // A late subscriber starts from the final state.
    const late = await openSocket(server, `/ws/jobs/${jobId}/`)
    await late.next('the final snapshot', (m) => m.type === 'job.state' && m.status === 'succeeded')
  })

  it('refuses bad job requests', async () => {
    const { server } = await startShowcase()
    const jobId = newJobId()
    expect((await postJson(server, '/api/jobs/', { jobId, injectFailure: false })).status).toBe(202)
    await waitFor('the job to be claimed', async () => {
      const state = (await (await fetch(`${server.url}/api/jobs/${jobId}/`)).json()) as Json
      return state.status !== 'unknown'
    })
    expect((await postJson(server, '/api/jobs/', { jobId })).status).toBe(409)
    expect((await postJson(server, '/api/jobs/', { jobId: 'short' })).status).toBe(400)
    expect((await postJson(server, '/api/jobs/', {}, { origin: 'http://evil.example' })).status).toBe(403)
    const form = await fetch(`${server.url}/api/jobs/`, { method: 'POST', body: 'jobId=x' })
    expect(form.status).toBe(415)
    expect((await fetch(`${server.url}/api/jobs/`)).status).toBe(405)
  })

  it('streams a job as server-sent events, subscribed before the job starts', async () => {
    const { server } = await startShowcase()
    const jobId = newJobId()
    const response = await fetch(`${server.url}/events/jobs/${jobId}/`)
    expect(response.headers.get('content-type')).toContain('text/event-stream')
    const stream = readEvents(response)
    expect(await stream.next()).toEqual({
      event: 'state',
      data: expect.objectContaining({ status: 'unknown' }) as Json,
    })

    expect((await postJson(server, '/api/jobs/', { jobId, injectFailure: true })).status).toBe(202)
    const events: ServerSentEvent[] = []
    for (let event = await stream.next(); event !== undefined; event = await stream.next()) events.push(event)
    const names = events.map((e) => e.event)
    expect(names.filter((name) => name === 'retrying')).toHaveLength(1)
    expect(names.at(-1)).toBe('done')
    const progress = events.filter((e) => e.event === 'progress').map((e) => e.data.percent)
    expect(progress.at(-1)).toBe(100)
    expect(progress).toHaveLength(13)

    // Once the job is over, a new stream sends the final state and ends.
    await waitFor('success recorded', async () => {
      const state = (await (await fetch(`${server.url}/api/jobs/${jobId}/`)).json()) as Json
      return state.status === 'succeeded'
    })
    const after = readEvents(await fetch(`${server.url}/events/jobs/${jobId}/`))
    expect(await after.next()).toMatchObject({ event: 'state', data: { status: 'succeeded', attempts: 2 } })
    expect(await after.next()).toBeUndefined()
  })

  it('delivers a webhook to the local receiver with one retry when private targets are allowed', async () => {
    const { server } = await startShowcase({ allowPrivateWebhooks: true })
    const feed = await openSocket(server, '/ws/webhooks/')
    const payload = '{"event":"order.paid","orderId":42}'
    const posted = await postJson(server, '/api/webhooks/', { url: `${server.url}/webhook-receiver/`, payload })
    expect(posted.status).toBe(202)
    const { deliveryId } = (await posted.json()) as { deliveryId: string }

    const row = await waitForDelivery(server, deliveryId, 'succeeded')
    expect(row).toMatchObject({ attempts: 2, url: `${server.url}/webhook-receiver/` })
    await feed.next('delivered', (m) => m.type === 'webhook.delivered')
    // One retry: two attempts, one failure (announced by onFailure), one success.
    expect(feed.ofType('webhook.attempt').map((m) => m.attempt)).toEqual([1, 2])
    expect(feed.ofType('webhook.failed')).toHaveLength(1)
    expect(feed.ofType('webhook.delivered')).toMatchObject([{ deliveryId, attempt: 2, status: 200 }])
    expect(feed.ofType('webhook.failed')[0]).toMatchObject({ attempt: 1, error: 'HTTP 500', willRetry: true })
    const calls = (await (await fetch(`${server.url}/webhook-receiver/`)).json()) as { calls: Json[] }
    expect(calls.calls).toMatchObject([
      { deliveryId, attempt: '2', answered: 200, bytes: payload.length },
      { deliveryId, attempt: '1', answered: 500, bytes: payload.length },
    ])
  })

  it('dead-letters a delivery the receiver refuses with a 4xx, and replays it', async () => {
    const { server } = await startShowcase({ allowPrivateWebhooks: true })
    const posted = await postJson(server, '/api/webhooks/', {
      url: `${server.url}/webhook-receiver/?status=404`,
      payload: { n: 1 },
    })
    const { deliveryId } = (await posted.json()) as { deliveryId: string }
    await waitForDelivery(server, deliveryId, 'dead')
    const [letter] = (await snapshot(server)).deadLetters
    expect(letter).toMatchObject({ deliveryId, attempts: 1, error: expect.stringContaining('HTTP 404') as string })

    const replayed = await postJson(server, `/api/webhooks/dead-letters/${letter!.id}/replay/`, {})
    expect(await replayed.json()).toEqual({ replayed: 1 })
    await waitFor(
      'a second dead letter',
      async () =>
        (await snapshot(server)).deadLetters.length === 1 && (await snapshot(server)).deadLetters[0]?.id !== letter!.id,
    )
    expect((await postJson(server, `/api/webhooks/dead-letters/${letter!.id}/replay/`, {})).status).toBe(404)
  })

  it('refuses loopback and other private targets when private targets are not allowed', async () => {
    const { server, layer } = await startShowcase()
    const refusals: Record<string, RegExp> = {
      [`${server.url}/webhook-receiver/`]: /127\.0\.0\.1 is a loopback address/,
      'http://[::1]:8000/': /::1 is a loopback or unspecified address/,
      'http://[::ffff:169.254.169.254]/': /IPv4-mapped link-local/,
      'http://10.1.2.3/': /private/,
      'http://localhost:8000/': /localhost \((127\.0\.0\.1|::1)\) is a loopback/,
      'ftp://example.com/': /Only http and https/,
      'not a url': /not an absolute URL/,
    }
    for (const [url, reason] of Object.entries(refusals)) {
      const response = await postJson(server, '/api/webhooks/', { url, payload: {} })
      expect({ url, status: response.status }).toEqual({ url, status: 400 })
      expect(((await response.json()) as { error: string }).error).toMatch(reason)
    }
    expect((await snapshot(server)).deliveries).toEqual([])

    // A task that skips the API (sent by other code, or before DNS changed) is refused by the worker itself.
    const deliveryId = newJobId()
    await layer.send('webhooks', {
      type: 'webhook.deliver',
      deliveryId,
      idempotencyKey: deliveryId,
      url: `${server.url}/webhook-receiver/`,
      body: '{}',
    })
    await waitFor('the dead letter', async () => (await snapshot(server)).deadLetters.length === 1)
    expect((await snapshot(server)).deadLetters[0]).toMatchObject({
      deliveryId,
      attempts: 1,
      error: expect.stringMatching(/NonRetryableError: Refused: 127\.0\.0\.1 is a loopback address/) as string,
    })
    const calls = (await (await fetch(`${server.url}/webhook-receiver/`)).json()) as { calls: Json[] }
    expect(calls.calls).toEqual([])
  })
})

describe('examples/showcase against DNS rebinding (issue 14, item 1)', () => {
  const evil = 'evil.example:8000'

  it('refuses every request for a foreign Host, APIs and sockets alike, and changes nothing', async () => {
    const { server, layer } = await startShowcase()
    const deliveryId = newJobId()
    await layer.send('webhooks', {
      type: 'webhook.deliver',
      deliveryId,
      idempotencyKey: deliveryId,
      url: `${server.url}/webhook-receiver/`,
      body: '{"secret":"payload"}',
    })
    await waitFor('the dead letter', async () => (await snapshot(server)).deadLetters.length === 1)
    const [letter] = (await snapshot(server)).deadLetters
    // What a page on evil.example, rebound to 127.0.0.1, sends: its own name in Host and Origin.
    const sameOriginJson = { origin: `http://${evil}`, 'content-type': 'application/json' }
    const requests: [method: string, path: string, body?: unknown][] = [
      ['GET', '/api/webhooks/'],
      ['POST', `/api/webhooks/dead-letters/${letter!.id}/replay/`, {}],
      ['POST', '/api/webhooks/', { url: 'https://example.com/', payload: {} }],
      ['POST', '/api/jobs/', { jobId: newJobId() }],
      ['GET', `/api/jobs/${newJobId()}/`],
      ['GET', `/events/jobs/${newJobId()}/`],
      ['GET', '/webhook-receiver/'],
      ['POST', '/webhook-receiver/', {}],
      ['GET', '/'],
    ]
    for (const [method, path, body] of requests) {
      const response = await requestWithHost(`${server.url}${path}`, evil, {
        method,
        headers: sameOriginJson,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 421 })
      expect(JSON.parse(response.body)).toMatchObject({ error: expect.stringMatching(/localhost/) as string })
    }
    for (const path of ['/ws/webhooks/', '/ws/chat/lobby/', `/ws/jobs/${newJobId()}/`]) {
      const refused = await refusal(`${server.url.replace(/^http/, 'ws')}${path}`, undefined, {
        headers: { host: evil },
        origin: `http://${evil}`,
      })
      expect({ path, status: refused.status }).toEqual({ path, status: 403 })
    }
    const after = await snapshot(server)
    expect(after.deadLetters.map((row) => row.id)).toEqual([letter!.id])
    expect(after.deliveries).toEqual([])
  })

  it("refuses the issue's curl on its dashboard, and its /metrics, by a foreign Host", async () => {
    const { server, layer } = await startShowcase({ monitoring: true })
    const deliveryId = newJobId()
    await layer.send('webhooks', {
      type: 'webhook.deliver',
      deliveryId,
      idempotencyKey: deliveryId,
      url: `${server.url}/webhook-receiver/`,
      body: '{}',
    })
    await waitFor('the dead letter', async () => (await layer.tasks.listDeadLetters('webhooks')).length === 1)
    // curl -X POST -H 'Host: evil.example:8000' -H 'Origin: http://evil.example:8000' \
    //   -H 'content-type: application/json' -d '{}' http://127.0.0.1:8000/switchyard/api/dead-letters/webhooks/purge
    const purge = await requestWithHost(`${server.url}/switchyard/api/dead-letters/webhooks/purge`, evil, {
      method: 'POST',
      headers: { origin: `http://${evil}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(purge.status).toBe(421)
    expect((await requestWithHost(`${server.url}/switchyard/api/dead-letters/webhooks`, evil)).status).toBe(421)
    expect((await requestWithHost(`${server.url}/metrics`, evil)).status).toBe(421)
    expect(await layer.tasks.listDeadLetters('webhooks')).toHaveLength(1)
    for (const host of ['127.0.0.1:8000', 'localhost:8000', '[::1]:8000']) {
      expect((await requestWithHost(`${server.url}/switchyard/api/state`, host)).status, host).toBe(200)
      expect((await requestWithHost(`${server.url}/metrics`, host)).status, host).toBe(200)
    }
  })

  it('answers 127.0.0.1, localhost and [::1] with any port, APIs and sockets alike', async () => {
    const { server } = await startShowcase()
    for (const host of ['127.0.0.1:8000', 'localhost:8000', '[::1]:8000', 'localhost']) {
      const listed = await requestWithHost(`${server.url}/api/webhooks/`, host)
      expect({ host, status: listed.status }).toEqual({ host, status: 200 })
      expect(JSON.parse(listed.body)).toMatchObject({ deliveries: [], deadLetters: [] })
      const origin = `http://${host}`
      const posted = await requestWithHost(`${server.url}/api/jobs/`, host, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify({ jobId: newJobId(), injectFailure: false }),
      })
      expect({ host, status: posted.status }).toEqual({ host, status: 202 })
      const { socket } = await connect(`${server.url.replace(/^http/, 'ws')}/ws/webhooks/`, undefined, {
        headers: { host },
        origin,
      })
      socket.close()
    }
  })
})

describe('examples/showcase JSON bodies (issue 14, item 5)', () => {
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

  it('answers a deeply nested JSON body with 400 and a clear message, not 500', async () => {
    const { server } = await startShowcase({ allowPrivateWebhooks: true })
    const post = (path: string, text: string): Promise<Response> =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
    const url = JSON.stringify(`${server.url}/webhook-receiver/`)
    for (const depth of [MAX_JSON_DEPTH, 10_000, 100_000]) {
      for (const [path, text] of [
        ['/api/webhooks/', `{"url":${url},"payload":${nested(depth)}}`],
        ['/api/jobs/', `{"jobId":"${newJobId()}","extra":${nested(depth)}}`],
        ['/api/webhooks/dead-letters/x/replay/', `{"ids":${nested(depth)}}`],
      ] as const) {
        const response = await post(path, text)
        expect({ path, depth, status: response.status }).toEqual({ path, depth, status: 400 })
        expect(await response.json()).toEqual({ error: `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels` })
      }
    }
    // Up to the limit is fine: one level for the body, the rest for the field.
    const deepest = await post('/api/webhooks/', `{"url":${url},"payload":${nested(MAX_JSON_DEPTH - 1)}}`)
    expect(deepest.status).toBe(202)
    const job = await post('/api/jobs/', `{"jobId":"${newJobId()}","extra":${nested(MAX_JSON_DEPTH - 1)}}`)
    expect(job.status).toBe(202)
    // Nesting inside a string is text, not nesting: a JSON payload given as a string is taken as it is.
    const asText = await post(
      '/api/webhooks/',
      JSON.stringify({ url: JSON.parse(url) as string, payload: nested(500) }),
    )
    expect(asText.status).toBe(202)
  })

  it('counts nesting outside strings only, in one pass', () => {
    expect(nestingDepth('{}')).toBe(1)
    expect(nestingDepth('{"a":[{"b":[]}],"c":{}}')).toBe(4)
    expect(nestingDepth('{"a":"[[[{{{"}')).toBe(1)
    expect(nestingDepth(String.raw`{"a":"\"[[[\\"}`)).toBe(1)
    expect(nestingDepth(String.raw`["\\",[[]]]`)).toBe(3)
    expect(nestingDepth('1')).toBe(0)
    expect(nestingDepth(nested(1_000_000))).toBe(1_000_000)
  })
})

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

async function snapshot(server: RunningServer): Promise<{ deliveries: DeliveryRow[]; deadLetters: DeadLetterRow[] }> {
  return (await (await fetch(`${server.url}/api/webhooks/`)).json()) as {
    deliveries: DeliveryRow[]
    deadLetters: DeadLetterRow[]
  }
}

async function waitForDelivery(server: RunningServer, deliveryId: string, status: string): Promise<DeliveryRow> {
  let row: DeliveryRow | undefined
  await waitFor(`delivery ${status}`, async () => {
    row = (await snapshot(server)).deliveries.find((d) => d.deliveryId === deliveryId)
    return row?.status === status
  })
  return row!
}

interface ServerSentEvent {
  readonly event: string
  readonly data: Json
}

/** Parses a text/event-stream body; `next()` resolves undefined once the stream has ended. */
function readEvents(response: Response): { next(): Promise<ServerSentEvent | undefined> } {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n')
        if (end !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const field = (name: string): string =>
            block
              .split('\n')
              .filter((line) => line.startsWith(`${name}: `))
              .map((line) => line.slice(name.length + 2))
              .join('\n')
          return { event: field('event'), data: JSON.parse(field('data')) as Json }
        }
        const { value, done } = await reader.read()
        if (done) return undefined
        buffer += value
      }
    },
  }
}
