import { request as httpRequest, type IncomingMessage } from 'node:http'

import { describe, expect, it } from 'vitest'

import type { Application, HttpScope, InputEvent } from '../../src/application.js'
import { RouteNotFoundError } from '../../src/errors.js'
import { anyNumber, anyString, captureLogger, deferred, startServer, text, waitFor } from './helpers.js'

/** Answers every request with a JSON description of what it received. */
const describeRequest: Application = async (scope, receive, send) => {
  if (scope.type !== 'http') throw new Error('http only')
  const event = await receive()
  const body = event.type === 'http.request' ? new TextDecoder().decode(event.body) : null
  const { method, path, queryString, httpVersion } = scope
  const payload = JSON.stringify({
    method,
    path,
    queryString,
    httpVersion,
    body,
    moreBody: 'moreBody' in event && event.moreBody,
  })
  await send({
    type: 'http.response.start',
    status: 201,
    headers: [
      ['content-type', 'application/json'],
      ['x-app', 'yes'],
    ],
  })
  await send({ type: 'http.response.body', body: text(payload) })
}

/** Starts a request with node:http and resolves with the response as soon as its head arrives. */
function openRequest(url: string, init: { method?: string; body?: string } = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET' }, resolve)
    req.on('error', reject)
    req.end(init.body)
  })
}

describe('HTTP through the application', () => {
  it('round-trips a GET with the scope Daphne builds', async () => {
    const seen = deferred<HttpScope>()
    const server = await startServer(async (scope, receive, send) => {
      if (scope.type === 'http') seen.resolve(scope)
      await describeRequest(scope, receive, send)
    })
    const response = await fetch(`${server.url}/api/caf%C3%A9?q=a%20b`, { headers: { 'X-Trace': 'abc' } })
    expect(response.status).toBe(201)
    expect(response.headers.get('x-app')).toBe('yes')
    expect(await response.json()).toEqual({
      method: 'GET',
      path: '/api/café',
      queryString: 'q=a%20b',
      httpVersion: '1.1',
      body: '',
      moreBody: false,
    })
    const scope = await seen.promise
    expect(scope.headers).toContainEqual(['x-trace', 'abc'])
    expect(scope).toMatchObject({ client: ['127.0.0.1', anyNumber], server: ['127.0.0.1', server.port] })
  })

  it('delivers a POST body as bytes whatever its content type', async () => {
    const server = await startServer(describeRequest)
    for (const contentType of ['application/json', 'text/plain', 'application/x-custom']) {
      const response = await fetch(`${server.url}/submit`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: '{"n":1}',
      })
      expect(await response.json()).toMatchObject({ method: 'POST', body: '{"n":1}', moreBody: false })
    }
    const noType = await openRequest(`${server.url}/submit`, { method: 'PUT', body: 'raw' })
    let body = ''
    for await (const chunk of noType) body += String(chunk)
    expect(JSON.parse(body)).toMatchObject({ method: 'PUT', body: 'raw' })
  })

  it('streams: chunks sent with moreBody arrive before the response ends', async () => {
    const release = deferred<undefined>()
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'http.response.start', status: 200, headers: [['content-type', 'text/event-stream']] })
      await send({ type: 'http.response.body', body: text('data: one\n\n'), moreBody: true })
      await release.promise
      await send({ type: 'http.response.body', body: text('data: two\n\n') })
    })
    const response = await openRequest(`${server.url}/events`)
    expect(response.headers['content-type']).toBe('text/event-stream')
    const first = await new Promise<string>((resolve) =>
      response.once('data', (chunk: Buffer) => {
        resolve(chunk.toString())
      }),
    )
    expect(first).toBe('data: one\n\n')
    release.resolve(undefined)
    let rest = ''
    for await (const chunk of response) rest += String(chunk)
    expect(rest).toBe('data: two\n\n')
  })

  it('answers 413 for a body over maxBodyBytes without calling the application', async () => {
    let calls = 0
    const server = await startServer(
      async (scope, receive, send) => {
        calls++
        await describeRequest(scope, receive, send)
      },
      { maxBodyBytes: 1024 },
    )
    const ok = await fetch(`${server.url}/upload`, { method: 'POST', body: 'x'.repeat(1024) })
    expect(ok.status).toBe(201)
    await ok.arrayBuffer()
    const tooBig = await fetch(`${server.url}/upload`, { method: 'POST', body: 'x'.repeat(1025) })
    expect(tooBig.status).toBe(413)
    expect(calls).toBe(1)
  })

  it('delivers http.disconnect when the client goes away before the response ends', async () => {
    const events: InputEvent[] = []
    const done = deferred<undefined>()
    const server = await startServer(async (_scope, receive, send) => {
      events.push(await receive())
      await send({ type: 'http.response.start', status: 200 })
      await send({ type: 'http.response.body', body: text('waiting...'), moreBody: true })
      events.push(await receive()) // long-poll: wait for news or for the client to leave
      done.resolve(undefined)
    })
    const response = await openRequest(`${server.url}/poll`)
    await new Promise((resolve) => response.once('data', resolve))
    response.destroy()
    await done.promise
    expect(events.map((event) => event.type)).toEqual(['http.request', 'http.disconnect'])
    await waitFor(() => server.app.switchyard.stats().httpRequests === 0)
  })

  it('answers 500 and logs when the application throws before http.response.start', async () => {
    const { logger, lines } = captureLogger()
    const server = await startServer(
      async () => {
        throw new Error('view crashed')
      },
      { logger },
    )
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(500)
    expect(await response.text()).toBe('Internal Server Error')
    expect(lines.find((line) => line.msg === 'application error')).toMatchObject({
      level: 50,
      connId: anyString,
      err: { message: 'view crashed' },
    })
  })

  it('answers 404 with a short text body for RouteNotFoundError', async () => {
    const server = await startServer(async () => {
      throw new RouteNotFoundError('No route found for path "/missing"')
    })
    const response = await fetch(`${server.url}/missing`)
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(await response.text()).toBe('Not Found')
    expect(server.app.switchyard.stats().applicationErrors).toBe(0)
  })

  it('answers 500 when the application returns without responding', async () => {
    const server = await startServer(async (_scope, receive) => {
      await receive()
    })
    expect((await fetch(`${server.url}/`)).status).toBe(500)
  })

  it('cuts the connection when the application throws after the status was sent', async () => {
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'http.response.start', status: 200 })
      await send({ type: 'http.response.body', body: text('partial'), moreBody: true })
      throw new Error('mid-stream failure')
    })
    // Cut before or after the head reached the client: either way it must not look like a complete response.
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest(`${server.url}/`, (response) => {
        response.on('error', () => {
          resolve('cut')
        })
        response.on('end', () => {
          resolve(response.complete ? 'complete' : 'cut')
        })
        response.resume()
      })
      req.on('error', () => {
        resolve('cut')
      })
      req.end()
    })
    expect(outcome).toBe('cut')
  })

  it('rejects an http.response.body before start with InvalidEventError', async () => {
    const sendError = deferred<unknown>()
    const server = await startServer(async (_scope, receive, send) => {
      await receive()
      await send({ type: 'http.response.body', body: text('no head') }).catch((error: unknown) => {
        sendError.resolve(error)
        throw error
      })
    })
    expect((await fetch(`${server.url}/`)).status).toBe(500)
    expect(await sendError.promise).toMatchObject({ code: 'SWY_INVALID_EVENT' })
  })
})
