import { describe, expect, it } from 'vitest'

import type { Application, HttpScope, OutputEvent } from '../../../src/application.js'
import { ConnectionClosedError, InvalidEventError, InvalidOptionError } from '../../../src/errors.js'
import { HttpCommunicator } from '../../../src/testing/index.js'
import { deferred } from './apps.js'

const encoder = new TextEncoder()

/** Replies with `events` to the request, after recording the scope and the request body. */
function replying(...events: OutputEvent[]): { app: Application; seen: Promise<{ scope: HttpScope; body: string }> } {
  const { promise, resolve } = deferred<{ scope: HttpScope; body: string }>()
  const app: Application = async (scope, receive, send) => {
    const request = await receive()
    if (scope.type !== 'http' || request.type !== 'http.request') throw new Error('expected an HTTP request')
    resolve({ scope, body: new TextDecoder().decode(request.body) })
    for (const event of events) await send(event)
  }
  return { app, seen: promise }
}

describe('HttpCommunicator', () => {
  it('passes path, method and query string; returns status and body (Channels test_http_communicator)', async () => {
    const { app, seen } = replying(
      { type: 'http.response.start', status: 200, headers: [['content-type', 'text/plain']] },
      { type: 'http.response.body', body: encoder.encode('test response') },
    )
    const communicator = new HttpCommunicator(app, 'GET', '/test/?foo=bar')
    const response = await communicator.getResponse()
    const { scope } = await seen
    expect(scope).toMatchObject({ type: 'http', path: '/test/', method: 'GET', queryString: 'foo=bar' })
    expect(scope.httpVersion).toBe('1.1')
    expect(response.status).toBe(200)
    expect(response.headers).toEqual([['content-type', 'text/plain']])
    expect(response.body).toEqual(encoder.encode('test response'))
    expect(response.text()).toBe('test response')
  })

  it('sends a string body UTF-8 encoded, upper-cases the method, joins body chunks', async () => {
    const { app, seen } = replying(
      { type: 'http.response.start', status: 201 },
      { type: 'http.response.body', body: encoder.encode('{"id":'), moreBody: true },
      { type: 'http.response.body', moreBody: true },
      { type: 'http.response.body', body: encoder.encode('1}') },
    )
    const communicator = new HttpCommunicator(app, 'post', '/api/', { body: '{"text":"héllo"}' })
    const response = await communicator.getResponse()
    expect(await seen).toMatchObject({ scope: { method: 'POST' }, body: '{"text":"héllo"}' })
    expect(response.status).toBe(201)
    expect(response.headers).toEqual([])
    expect(response.json()).toEqual({ id: 1 })
  })

  it('rejects a body that is neither bytes nor a string', () => {
    expect(() => new HttpCommunicator(replying().app, 'GET', '/', { body: 5 as unknown as string })).toThrow(
      InvalidOptionError,
    )
    expect(() => new HttpCommunicator(replying().app, 'GET /', '/')).toThrow(InvalidOptionError)
  })

  it('http.response.body before http.response.start -> InvalidEventError', async () => {
    const { app } = replying({ type: 'http.response.body', body: encoder.encode('oops') })
    const communicator = new HttpCommunicator(app, 'GET', '/')
    await expect(communicator.getResponse()).rejects.toThrow(
      new InvalidEventError(
        'Cannot send http.response.body before http.response.start: send the status and headers first',
      ),
    )
  })

  it('a websocket event on an http scope -> InvalidEventError', async () => {
    const { app } = replying({ type: 'websocket.accept' })
    await expect(new HttpCommunicator(app, 'GET', '/').getResponse()).rejects.toThrow(InvalidEventError)
  })

  it('a second http.response.start -> InvalidEventError', async () => {
    const { app } = replying({ type: 'http.response.start', status: 200 }, { type: 'http.response.start', status: 500 })
    const communicator = new HttpCommunicator(app, 'GET', '/')
    await expect(communicator.getResponse()).rejects.toThrow(
      'http.response.start was already sent: send http.response.body events now',
    )
  })

  it('a send after the final body -> ConnectionClosedError, once the complete response was read', async () => {
    const { app } = replying(
      { type: 'http.response.start', status: 204 },
      { type: 'http.response.body' },
      { type: 'http.response.body', body: encoder.encode('late') },
    )
    const communicator = new HttpCommunicator(app, 'GET', '/')
    expect((await communicator.getResponse()).status).toBe(204)
    await expect(communicator.wait()).rejects.toThrow(ConnectionClosedError)
  })

  it('times out per event, naming the event awaited', async () => {
    const { app } = replying({ type: 'http.response.start', status: 200 })
    const communicator = new HttpCommunicator(app, 'GET', '/')
    await expect(communicator.getResponse({ timeoutMs: 30 })).rejects.toThrow(
      'Timed out after 30 ms waiting for http.response.body; the application had already returned',
    )
  })
})
