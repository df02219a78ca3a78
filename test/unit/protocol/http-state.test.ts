import { describe, expect, it } from 'vitest'

import type { OutputEvent } from '../../../src/application.js'
import { ConnectionClosedError, InvalidEventError } from '../../../src/errors.js'
import { HttpProtocolState } from '../../../src/protocol/index.js'

const loose = (event: unknown): OutputEvent => event as OutputEvent

describe('HttpProtocolState', () => {
  it('takes one start, then body chunks until the final one', () => {
    const state = new HttpProtocolState()
    expect([state.started, state.closed]).toEqual([false, false])
    state.check({ type: 'http.response.start', status: 200, headers: [['content-type', 'text/event-stream']] })
    state.check({ type: 'http.response.body', body: new Uint8Array([1]), moreBody: true })
    state.check({ type: 'http.response.body', moreBody: true })
    expect([state.started, state.closed]).toEqual([true, false])
    state.check({ type: 'http.response.body', body: new Uint8Array([2]) })
    expect(state.closed).toBe(true)
    expect(() => {
      state.check({ type: 'http.response.body' })
    }).toThrow(
      new ConnectionClosedError(
        'Cannot send http.response.body: the response is complete (the last http.response.body had no `moreBody: true`)',
      ),
    )
  })

  it('rejects body before start and a second start', () => {
    const state = new HttpProtocolState()
    expect(() => {
      state.check({ type: 'http.response.body' })
    }).toThrow(InvalidEventError)
    state.check({ type: 'http.response.start', status: 404 })
    expect(() => {
      state.check({ type: 'http.response.start', status: 200 })
    }).toThrow(new InvalidEventError('http.response.start was already sent: send http.response.body events now'))
  })

  it('is closed once the client disconnected', () => {
    const state = new HttpProtocolState()
    state.check({ type: 'http.response.start', status: 200 })
    state.markDisconnected()
    expect(state.closed).toBe(true)
    expect(() => {
      state.check({ type: 'http.response.body', moreBody: true })
    }).toThrow(new ConnectionClosedError('Cannot send http.response.body: the client disconnected'))
  })

  it.each<[string, unknown, string]>([
    ['a websocket event', { type: 'websocket.accept' }, '"websocket.accept" is not an event an HTTP application'],
    ['trailers', { type: 'http.response.trailers' }, '"http.response.trailers" is not an event an HTTP'],
    ['status 99', { type: 'http.response.start', status: 99 }, '`status` must be an integer from 100 to 599, got 99'],
    ['status 600', { type: 'http.response.start', status: 600 }, 'got 600'],
    ['a string status', { type: 'http.response.start', status: '200' }, 'got "200"'],
    ['bad headers', { type: 'http.response.start', status: 200, headers: [['x', 1]] }, '`headers[0]` must be'],
    ['a string body', { type: 'http.response.body', body: 'text' }, '`body` must be a Uint8Array (encode strings'],
    ['moreBody not a boolean', { type: 'http.response.body', moreBody: 1 }, '`moreBody` must be a boolean, got 1'],
  ])('rejects %s with InvalidEventError', (_case, event, message) => {
    const state = new HttpProtocolState()
    if ((event as { type?: unknown } | null)?.type === 'http.response.body')
      state.check({ type: 'http.response.start', status: 200 })
    const check = () => {
      state.check(loose(event))
    }
    expect(check).toThrow(InvalidEventError)
    expect(check).toThrow(message)
  })
})
