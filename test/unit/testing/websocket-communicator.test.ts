import { AssertionError } from 'node:assert'

import { describe, expect, it } from 'vitest'

import type { Application, OutputEvent, Scope, Send, WebsocketScope } from '../../../src/application.js'
import {
  ApplicationCancelledError,
  ConnectionClosedError,
  InvalidEventError,
  InvalidOptionError,
  NotAcceptedError,
} from '../../../src/errors.js'
import { InMemoryChannelLayer } from '../../../src/layers/memory/memory-layer.js'
import { CommunicatorTimeoutError, WebsocketCommunicator } from '../../../src/testing/index.js'
import { deferred, echoApp, rejectionOf, sendError } from './apps.js'

/** Accepts, then runs `after(send)` and reports what it resolved with; returns on disconnect. */
function acceptThen<T>(after: (send: Send) => Promise<T>): { app: Application; result: Promise<T> } {
  const { promise, resolve } = deferred<T>()
  const app: Application = async (_scope, receive, send) => {
    for (;;) {
      const event = await receive()
      if (event.type === 'websocket.connect') {
        await send({ type: 'websocket.accept' })
        resolve(await after(send))
      }
      if (event.type === 'websocket.disconnect') return
    }
  }
  return { app, result: promise }
}

/** Records the scope it was called with and accepts. */
function scopeRecorder(): { app: Application; scope: Promise<Scope> } {
  const { promise, resolve } = deferred<Scope>()
  const app: Application = async (scope, receive, send) => {
    resolve(scope)
    await acceptThen(async () => undefined).app(scope, receive, send)
  }
  return { app, scope: promise }
}

describe('WebsocketCommunicator', () => {
  it('connects, echoes text, bytes and JSON, and disconnects (Channels test_websocket_communicator)', async () => {
    const communicator = new WebsocketCommunicator(echoApp, '/testws/')
    expect(await communicator.connect()).toEqual({ connected: true, subprotocol: null, headers: [] })
    await communicator.sendTo({ text: 'hello' })
    expect(await communicator.receiveFrom()).toBe('hello')
    await communicator.sendTo({ bytes: new Uint8Array([119, 8, 0, 255]) })
    expect(await communicator.receiveFrom()).toEqual(new Uint8Array([119, 8, 0, 255]))
    await communicator.sendJsonTo({ hello: 'world' })
    expect(await communicator.receiveJsonFrom()).toEqual({ hello: 'world' })
    expect(await communicator.receiveNothing()).toBe(true)
    await communicator.disconnect()
  })

  it('allows empty frames', async () => {
    const communicator = new WebsocketCommunicator(echoApp, '/')
    await communicator.connect()
    await communicator.sendTo({ text: '' })
    expect(await communicator.receiveFrom()).toBe('')
    await communicator.disconnect()
  })

  it("fails an incorrect read with Channels' assertion message (test_websocket_incorrect_read_json)", async () => {
    const app: Application = async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      await send({ type: 'websocket.close' })
    }
    const communicator = new WebsocketCommunicator(app, '/testws/')
    expect(await communicator.connect()).toMatchObject({ connected: true })
    const error = await rejectionOf(communicator.receiveFrom())
    expect(error).toBeInstanceOf(AssertionError)
    expect((error as Error).message).toBe("Expected type 'websocket.send', but was 'websocket.close'")
  })

  it('fails receiveJsonFrom on a binary frame', async () => {
    const communicator = new WebsocketCommunicator(echoApp, '/')
    await communicator.connect()
    await communicator.sendTo({ bytes: new Uint8Array([1]) })
    await expect(communicator.receiveJsonFrom()).rejects.toThrow(
      new AssertionError({ message: 'Expected a text frame holding JSON, but got a binary frame' }),
    )
  })

  it('times out when the application ignores a frame, cancelling it (test_timeout_disconnect)', async () => {
    const { promise: receiveError, resolve } = deferred<unknown>()
    const app: Application = async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      await receive() // the text frame, ignored
      try {
        await receive()
      } catch (error) {
        resolve(error)
        throw error
      }
    }
    const communicator = new WebsocketCommunicator(app, '/testws/')
    await communicator.connect()
    await communicator.sendTo({ text: 'hello' })
    const error = await rejectionOf(communicator.receiveFrom({ timeoutMs: 30 }))
    expect(error).toBeInstanceOf(CommunicatorTimeoutError)
    expect((error as Error).name).toBe('TimeoutError')
    expect((error as Error).message).toBe(
      'Timed out after 30 ms waiting for websocket.send; the application was cancelled',
    )
    expect(await receiveError).toBeInstanceOf(ApplicationCancelledError)
    await expect(communicator.disconnect()).rejects.toThrow(ApplicationCancelledError)
  })

  it("surfaces the application's crash instead of a timeout", async () => {
    const app: Application = async (_scope, receive, send) => {
      await receive()
      await send({ type: 'websocket.accept' })
      const frame = await receive()
      if (frame.type === 'websocket.receive') throw new Error(`cannot handle ${frame.text ?? ''}`)
    }
    const communicator = new WebsocketCommunicator(app, '/')
    await communicator.connect()
    await communicator.sendTo({ text: 'this' })
    const started = performance.now()
    await expect(communicator.receiveFrom({ timeoutMs: 10_000 })).rejects.toThrow('cannot handle this')
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  describe('connection scope', () => {
    it.each([
      ['user:pass@example.com:8080/p/a/t/h?query=string#hash', '/p/a/t/h', 'query=string'],
      ['wss://user:pass@example.com:8080/p/a/t/h?query=string#hash', '/p/a/t/h', 'query=string'],
      [
        'ws://www.example.com/%E4%BE%8B%E5%AD%90/?test=%E4%BE%8B%E5%AD%90&zh=%E5%BC%8F%E5%AD%90',
        '/例子/',
        'test=%E4%BE%8B%E5%AD%90&zh=%E5%BC%8F%E5%AD%90',
      ],
    ])('from %s (test_connection_scope)', async (url, path, queryString) => {
      const { app, scope } = scopeRecorder()
      const communicator = new WebsocketCommunicator(app, url)
      expect(await communicator.connect()).toMatchObject({ connected: true })
      expect(await scope).toMatchObject({ type: 'websocket', path, queryString, headers: [], subprotocols: [] })
      expect(communicator.scope).toBe(await scope)
      await communicator.disconnect()
    })

    it('keeps a malformed escape as written, as the server does', () => {
      expect(new WebsocketCommunicator(echoApp, '/a%zz/%E4%BE%8B/%E4').scope.path).toBe('/a%zz/例/%E4')
    })

    it('rejects an ambiguous relative path and a non-string path', () => {
      expect(() => new WebsocketCommunicator(echoApp, 'ws/chat/')).toThrow(InvalidOptionError)
      expect(() => new WebsocketCommunicator(echoApp, 42 as unknown as string)).toThrow(
        'Expected `path` to be a string, got 42',
      )
    })

    it('lower-cases header names, from pairs or an object; sets layer, logger, extra fields and a frozen scope', () => {
      const layer = new InMemoryChannelLayer()
      const fromPairs = new WebsocketCommunicator(echoApp, '/', {
        headers: [
          ['Origin', 'https://example.com'],
          ['X-Tag', 'a'],
          ['x-tag', 'b'],
        ],
        subprotocols: ['chat.v2', 'chat.v1'],
        layer,
        scope: { user: { id: 7 }, type: 'http' },
      })
      const scope: WebsocketScope = fromPairs.scope
      expect(scope.headers).toEqual([
        ['origin', 'https://example.com'],
        ['x-tag', 'a'],
        ['x-tag', 'b'],
      ])
      expect(scope).toMatchObject({ type: 'websocket', subprotocols: ['chat.v2', 'chat.v1'], user: { id: 7 } })
      expect(scope.channelLayer).toBe(layer)
      expect(scope.connectionId).toMatch(/^[0-9a-f-]{36}$/)
      expect(Object.isFrozen(scope)).toBe(true)
      expect('logger' in scope).toBe(false)
      const fromObject = new WebsocketCommunicator(echoApp, '/', { headers: { Cookie: 'sid=1' } })
      expect(fromObject.scope.headers).toEqual([['cookie', 'sid=1']])
      expect(fromObject.scope.connectionId).not.toBe(scope.connectionId)
    })
  })

  describe('connect', () => {
    it('reports a rejection with the close code, 1000 by default', async () => {
      const reject =
        (code?: number): Application =>
        async (_scope, receive, send) => {
          await receive()
          await send(code === undefined ? { type: 'websocket.close' } : { type: 'websocket.close', code })
        }
      expect(await new WebsocketCommunicator(reject(), '/').connect()).toEqual({ connected: false, code: 1000 })
      expect(await new WebsocketCommunicator(reject(4003), '/').connect()).toEqual({ connected: false, code: 4003 })
    })

    it('returns the chosen subprotocol and the extra handshake headers', async () => {
      const app: Application = async (scope, receive, send) => {
        await receive()
        const offered = scope.type === 'websocket' ? scope.subprotocols : []
        await send({ type: 'websocket.accept', subprotocol: offered[1] ?? null, headers: [['x-server', 'yard']] })
      }
      const communicator = new WebsocketCommunicator(app, '/', { subprotocols: ['chat.v2', 'chat.v1'] })
      expect(await communicator.connect()).toEqual({
        connected: true,
        subprotocol: 'chat.v1',
        headers: [['x-server', 'yard']],
      })
    })
  })

  it('exposes a close with a code and reason through receiveOutput', async () => {
    const { app } = acceptThen((send) => send({ type: 'websocket.close', code: 4007, reason: 'room closed' }))
    const communicator = new WebsocketCommunicator(app, '/')
    await communicator.connect()
    expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.close', code: 4007, reason: 'room closed' })
  })

  it('receiveNothing is true for silence and false for a pending frame, which stays readable', async () => {
    const communicator = new WebsocketCommunicator(echoApp, '/')
    await communicator.connect()
    expect(await communicator.receiveNothing({ timeoutMs: 20 })).toBe(true)
    await communicator.sendTo({ text: 'ping' })
    expect(await communicator.receiveNothing()).toBe(false)
    expect(await communicator.receiveFrom()).toBe('ping')
    await communicator.disconnect()
  })

  describe('sendTo', () => {
    it.each([
      [{}, 'sendTo takes exactly one of `text` or `bytes`, got neither'],
      [{ text: 'a', bytes: new Uint8Array() }, 'sendTo takes exactly one of `text` or `bytes`, got both'],
      [{ text: 7 }, 'sendTo `text` must be a string, got 7'],
      [{ bytes: 'abc' }, 'sendTo `bytes` must be a Uint8Array, got "abc"'],
    ])('rejects %o', async (frame, message) => {
      const communicator = new WebsocketCommunicator(echoApp, '/')
      await communicator.connect()
      await expect(communicator.sendTo(frame as unknown as { text: string })).rejects.toThrow(
        new InvalidEventError(message),
      )
    })

    it('sendJsonTo rejects a value JSON cannot encode', async () => {
      const communicator = new WebsocketCommunicator(echoApp, '/')
      await expect(communicator.sendJsonTo(undefined)).rejects.toThrow(InvalidEventError)
    })
  })

  describe('protocol guard (the same coded errors the server raises)', () => {
    /** Runs `misuse` as the application's first reaction to websocket.connect; returns what its send threw. */
    async function errorFrom(misuse: (send: Send) => Promise<unknown>): Promise<unknown> {
      const { promise, resolve } = deferred<unknown>()
      const app: Application = async (_scope, receive, send) => {
        await receive()
        resolve(await misuse(send))
        await send({ type: 'websocket.close' }).catch(() => undefined)
      }
      const communicator = new WebsocketCommunicator(app, '/', { subprotocols: ['chat.v1'] })
      const outcome = communicator.connect().catch(() => undefined)
      const error = await promise
      await outcome
      return error
    }

    it('websocket.send before websocket.accept -> NotAcceptedError', async () => {
      const error = await errorFrom((send) => sendError(send, { type: 'websocket.send', text: 'too early' }))
      expect(error).toBeInstanceOf(NotAcceptedError)
      expect(error).toMatchObject({ code: 'SWY_NOT_ACCEPTED' })
    })

    it('a second websocket.accept -> InvalidEventError', async () => {
      const error = await errorFrom(async (send) => {
        await send({ type: 'websocket.accept' })
        return sendError(send, { type: 'websocket.accept' })
      })
      expect(error).toBeInstanceOf(InvalidEventError)
      expect((error as Error).message).toBe(
        'websocket.accept was already sent: a WebSocket connection is accepted once',
      )
    })

    it.each<[string, OutputEvent]>([
      ['neither', { type: 'websocket.send' }],
      ['both', { type: 'websocket.send', text: 'a', bytes: new Uint8Array([1]) }],
    ])('a send with %s text and bytes -> InvalidEventError', async (got, event) => {
      const error = await errorFrom(async (send) => {
        await send({ type: 'websocket.accept' })
        return sendError(send, event)
      })
      expect(error).toBeInstanceOf(InvalidEventError)
      expect((error as Error).message).toBe(
        `websocket.send needs exactly one of \`text\` (a string) or \`bytes\` (a Uint8Array), got ${got}`,
      )
    })

    it.each<OutputEvent>([
      { type: 'websocket.send', text: 'late' },
      { type: 'websocket.close' },
      { type: 'websocket.accept' },
    ])('$type after websocket.close -> ConnectionClosedError', async (event) => {
      const error = await errorFrom(async (send) => {
        await send({ type: 'websocket.accept' })
        await send({ type: 'websocket.close', code: 4000 })
        return sendError(send, event)
      })
      expect(error).toBeInstanceOf(ConnectionClosedError)
      expect((error as Error).message).toBe(
        `Cannot send ${event.type}: the WebSocket is closed (the application already sent websocket.close)`,
      )
    })

    it('an http event on a websocket scope -> InvalidEventError', async () => {
      const error = await errorFrom((send) => sendError(send, { type: 'http.response.start', status: 200 }))
      expect(error).toBeInstanceOf(InvalidEventError)
      expect((error as Error).message).toBe(
        '"http.response.start" is not an event a WebSocket application can send; send websocket.accept, ' +
          'websocket.send or websocket.close',
      )
    })

    it('accepting with a subprotocol the client did not offer -> InvalidEventError', async () => {
      const error = await errorFrom((send) => sendError(send, { type: 'websocket.accept', subprotocol: 'chat.v9' }))
      expect(error).toBeInstanceOf(InvalidEventError)
      expect((error as Error).message).toContain('chose subprotocol "chat.v9", which the client did not offer')
    })

    it('a send after the application received websocket.disconnect -> ConnectionClosedError', async () => {
      const { promise, resolve } = deferred<unknown>()
      const app: Application = async (_scope, receive, send) => {
        await receive()
        await send({ type: 'websocket.accept' })
        await receive()
        resolve(await sendError(send, { type: 'websocket.send', text: 'anyone there?' }))
      }
      const communicator = new WebsocketCommunicator(app, '/')
      await communicator.connect()
      await communicator.disconnect(1001)
      const error = await promise
      expect(error).toBeInstanceOf(ConnectionClosedError)
      expect((error as Error).message).toBe(
        'Cannot send websocket.send: the WebSocket is closed (the client disconnected)',
      )
    })

    it('a misuse the application does not catch fails the test with that coded error', async () => {
      const app: Application = async (_scope, receive, send) => {
        await receive()
        await send({ type: 'websocket.send', text: 'too early' })
      }
      await expect(new WebsocketCommunicator(app, '/').connect()).rejects.toThrow(NotAcceptedError)
    })

    it('replies to frames sent before a disconnect are still accepted (they are queued, not rejected)', async () => {
      const communicator = new WebsocketCommunicator(echoApp, '/')
      await communicator.connect()
      await communicator.sendTo({ text: 'unread reply' })
      await communicator.disconnect()
      expect(await communicator.receiveFrom()).toBe('unread reply')
    })
  })
})
