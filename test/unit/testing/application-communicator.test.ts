import { describe, expect, it } from 'vitest'

import type { Application, ChannelScope, InputEvent } from '../../../src/application.js'
import {
  ApplicationCancelledError,
  ConnectionClosedError,
  InvalidEventError,
  InvalidOptionError,
} from '../../../src/errors.js'
import { ApplicationCommunicator, CommunicatorTimeoutError, httpScope } from '../../../src/testing/index.js'
import { deferred, rejectionOf, sendError } from './apps.js'

const channelScope: ChannelScope = { type: 'channel', channel: 'tasks' }

/** Answers each `websocket.receive` text with the same text upper-cased; no protocol guard on a channel scope. */
const upperApp: Application = async (_scope, receive, send) => {
  for (;;) {
    const event = await receive()
    if (event.type === 'websocket.receive') await send({ type: 'websocket.send', text: event.text?.toUpperCase() })
    if (event.type === 'websocket.disconnect') return
  }
}

/** Waits for input forever and records how its receive ended. */
function blockedApp(): { app: Application; receiveError: Promise<unknown> } {
  const { promise, resolve } = deferred<unknown>()
  const app: Application = async (_scope, receive) => {
    try {
      await receive()
      await receive()
    } catch (error) {
      resolve(error)
      throw error
    }
  }
  return { app, receiveError: promise }
}

describe('ApplicationCommunicator', () => {
  it('starts the application lazily, on first use', async () => {
    let calls = 0
    const communicator = new ApplicationCommunicator(async () => {
      calls++
    }, channelScope)
    expect(calls).toBe(0)
    await communicator.wait()
    expect(calls).toBe(1)
  })

  it('passes input to receive() and returns what the application sends, in order', async () => {
    const communicator = new ApplicationCommunicator(upperApp, channelScope)
    await communicator.sendInput({ type: 'websocket.receive', text: 'one' })
    await communicator.sendInput({ type: 'websocket.receive', text: 'two' })
    expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.send', text: 'ONE' })
    expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.send', text: 'TWO' })
    await communicator.sendInput({ type: 'websocket.disconnect', code: 1000 })
    await communicator.wait()
  })

  it('on timeout cancels the application: its pending receive rejects with ApplicationCancelledError', async () => {
    const { app, receiveError } = blockedApp()
    const communicator = new ApplicationCommunicator(app, channelScope)
    const error = await rejectionOf(communicator.receiveOutput({ timeoutMs: 30 }))
    expect(error).toBeInstanceOf(CommunicatorTimeoutError)
    expect(error).toMatchObject({ name: 'TimeoutError', awaited: 'an output event', timeoutMs: 30 })
    expect((error as Error).message).toBe(
      'Timed out after 30 ms waiting for an output event; the application was cancelled',
    )
    const cancelled = await receiveError
    expect(cancelled).toBeInstanceOf(ApplicationCancelledError)
    expect((cancelled as ApplicationCancelledError).code).toBe('SWY_APPLICATION_CANCELLED')
    // asgiref: once cancelled, sending input re-raises the cancellation; wait() treats it as finished.
    await expect(communicator.sendInput({ type: 'websocket.connect' })).rejects.toThrow(ApplicationCancelledError)
    await expect(communicator.receiveOutput()).rejects.toThrow(ApplicationCancelledError)
    await communicator.wait()
  })

  it('rejects receive() calls made after the cancellation too', async () => {
    const { promise: later, resolve } = deferred<unknown>()
    const app: Application = async (_scope, receive) => {
      await receive().catch(() => undefined)
      resolve(await rejectionOf(receive()))
    }
    const communicator = new ApplicationCommunicator(app, channelScope)
    await expect(communicator.wait({ timeoutMs: 20 })).rejects.toThrow(CommunicatorTimeoutError)
    expect(await later).toBeInstanceOf(ApplicationCancelledError)
  })

  it("surfaces the application's own crash at once instead of waiting for the timeout", async () => {
    const app: Application = async (_scope, receive) => {
      await receive()
      throw new RangeError('boom')
    }
    const communicator = new ApplicationCommunicator(app, channelScope)
    await communicator.sendInput({ type: 'websocket.connect' })
    const started = performance.now()
    await expect(communicator.receiveOutput({ timeoutMs: 10_000 })).rejects.toThrow(new RangeError('boom'))
    expect(performance.now() - started).toBeLessThan(2_000)
    // Every later call re-throws the same error.
    await expect(communicator.sendInput({ type: 'websocket.connect' })).rejects.toThrow('boom')
    await expect(communicator.wait()).rejects.toThrow('boom')
    await expect(communicator.stop()).rejects.toThrow('boom')
    await communicator.stop({ exceptions: false })
  })

  it('returns the outputs sent before a crash first, then throws the crash', async () => {
    const app: Application = async (_scope, _receive, send) => {
      await send({ type: 'websocket.send', text: 'last words' })
      throw new Error('crashed after sending')
    }
    const communicator = new ApplicationCommunicator(app, channelScope)
    expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.send', text: 'last words' })
    await expect(communicator.receiveOutput()).rejects.toThrow('crashed after sending')
  })

  it('surfaces a synchronous throw from a non-async application', async () => {
    const app = (() => {
      throw new TypeError('sync failure')
    }) as unknown as Application
    const communicator = new ApplicationCommunicator(app, channelScope)
    await expect(communicator.receiveOutput()).rejects.toThrow('sync failure')
  })

  it('lets an error raised while being cancelled win over the timeout (asgiref)', async () => {
    const app: Application = async (_scope, receive) => {
      try {
        await receive()
      } finally {
        // eslint-disable-next-line no-unsafe-finally -- the point: cleanup that fails during cancellation
        throw new Error('cleanup failed')
      }
    }
    const communicator = new ApplicationCommunicator(app, channelScope)
    await expect(communicator.receiveOutput({ timeoutMs: 20 })).rejects.toThrow('cleanup failed')
  })

  it('times out without cancelling an application that already returned', async () => {
    const communicator = new ApplicationCommunicator(async () => undefined, channelScope)
    await communicator.wait()
    const error = await rejectionOf(communicator.receiveOutput({ timeoutMs: 20 }))
    expect(error).toBeInstanceOf(CommunicatorTimeoutError)
    expect((error as Error).message).toBe(
      'Timed out after 20 ms waiting for an output event; the application had already returned',
    )
  })

  describe('receiveNothing', () => {
    it('is true when nothing is sent within the timeout', async () => {
      const communicator = new ApplicationCommunicator(upperApp, channelScope)
      expect(await communicator.receiveNothing({ timeoutMs: 20 })).toBe(true)
    })

    it('is false as soon as an event is queued, and leaves it queued', async () => {
      const communicator = new ApplicationCommunicator(upperApp, channelScope)
      await communicator.sendInput({ type: 'websocket.receive', text: 'kept' })
      const started = performance.now()
      expect(await communicator.receiveNothing({ timeoutMs: 10_000 })).toBe(false)
      expect(performance.now() - started).toBeLessThan(2_000)
      expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.send', text: 'KEPT' })
      expect(await communicator.receiveNothing({ timeoutMs: 20 })).toBe(true)
    })

    it('throws the crash rather than reporting silence', async () => {
      const communicator = new ApplicationCommunicator(async () => {
        throw new Error('silent crash')
      }, channelScope)
      await expect(communicator.receiveNothing({ timeoutMs: 5_000 })).rejects.toThrow('silent crash')
    })

    it('does not cancel the application', async () => {
      const communicator = new ApplicationCommunicator(upperApp, channelScope)
      expect(await communicator.receiveNothing({ timeoutMs: 20 })).toBe(true)
      await communicator.sendInput({ type: 'websocket.receive', text: 'still alive' })
      expect(await communicator.receiveOutput()).toEqual({ type: 'websocket.send', text: 'STILL ALIVE' })
    })
  })

  describe('wait', () => {
    it('cancels the application on timeout', async () => {
      const { app, receiveError } = blockedApp()
      const communicator = new ApplicationCommunicator(app, channelScope)
      const error = await rejectionOf(communicator.wait({ timeoutMs: 20 }))
      expect(error).toBeInstanceOf(CommunicatorTimeoutError)
      expect((error as Error).message).toBe(
        'Timed out after 20 ms waiting for the application to finish; the application was cancelled',
      )
      expect(await receiveError).toBeInstanceOf(ApplicationCancelledError)
    })

    it("re-throws the application's error", async () => {
      const communicator = new ApplicationCommunicator(async () => {
        throw new Error('failed')
      }, channelScope)
      await expect(communicator.wait()).rejects.toThrow('failed')
    })
  })

  describe('stop', () => {
    it('cancels a running application and is idempotent', async () => {
      const { app, receiveError } = blockedApp()
      const communicator = new ApplicationCommunicator(app, channelScope)
      await communicator.sendInput({ type: 'websocket.connect' })
      await communicator.stop()
      await communicator.stop()
      expect(await receiveError).toBeInstanceOf(ApplicationCancelledError)
      await expect(communicator.sendInput({ type: 'websocket.connect' })).rejects.toThrow(ApplicationCancelledError)
    })

    it('before first use, keeps the application from ever starting', async () => {
      let calls = 0
      const communicator = new ApplicationCommunicator(async () => {
        calls++
      }, channelScope)
      await communicator.stop()
      await expect(communicator.sendInput({ type: 'websocket.connect' })).rejects.toThrow(ApplicationCancelledError)
      expect(calls).toBe(0)
    })
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '100'])('rejects timeoutMs %s', async (timeoutMs) => {
    const communicator = new ApplicationCommunicator(upperApp, channelScope)
    await expect(communicator.receiveOutput({ timeoutMs: timeoutMs as number })).rejects.toThrow(InvalidOptionError)
  })

  describe('streaming HTTP (server-sent events)', () => {
    /** Streams two events, waits for the client to leave, then records how a third send fails. */
    function sseApp(): { app: Application; afterDisconnect: Promise<unknown> } {
      const { promise, resolve } = deferred<unknown>()
      const encoder = new TextEncoder()
      const app: Application = async (_scope, receive, send) => {
        const request = await receive()
        if (request.type !== 'http.request') throw new Error(`unexpected ${request.type}`)
        await send({ type: 'http.response.start', status: 200, headers: [['content-type', 'text/event-stream']] })
        await send({ type: 'http.response.body', body: encoder.encode('data: 1\n\n'), moreBody: true })
        await send({ type: 'http.response.body', body: encoder.encode('data: 2\n\n'), moreBody: true })
        const next: InputEvent = await receive()
        expect(next.type).toBe('http.disconnect')
        resolve(await sendError(send, { type: 'http.response.body', body: encoder.encode('data: 3\n\n') }))
      }
      return { app, afterDisconnect: promise }
    }

    it('reads chunks one by one; after http.disconnect the application cannot send', async () => {
      const { app, afterDisconnect } = sseApp()
      const communicator = new ApplicationCommunicator(app, httpScope('GET', '/events/'))
      await communicator.sendInput({ type: 'http.request', body: new Uint8Array() })
      expect(await communicator.receiveOutput()).toMatchObject({ type: 'http.response.start', status: 200 })
      const first = await communicator.receiveOutput()
      expect(first).toMatchObject({ type: 'http.response.body', moreBody: true })
      expect(new TextDecoder().decode((first as { body: Uint8Array }).body)).toBe('data: 1\n\n')
      expect(await communicator.receiveOutput()).toMatchObject({ type: 'http.response.body', moreBody: true })
      await communicator.sendInput({ type: 'http.disconnect' })
      await communicator.wait()
      expect(await afterDisconnect).toBeInstanceOf(ConnectionClosedError)
      expect(await communicator.receiveNothing({ timeoutMs: 10 })).toBe(true)
    })
  })

  it('checks events on an http scope: a websocket event is an InvalidEventError', async () => {
    const { promise, resolve } = deferred<unknown>()
    const app: Application = async (_scope, _receive, send) => {
      resolve(await sendError(send, { type: 'websocket.accept' }))
    }
    const communicator = new ApplicationCommunicator(app, httpScope('GET', '/'))
    await communicator.wait()
    const error = await promise
    expect(error).toBeInstanceOf(InvalidEventError)
    expect((error as Error).message).toBe(
      '"websocket.accept" is not an event an HTTP application can send; send http.response.start, then ' +
        'http.response.body',
    )
    expect(await communicator.receiveNothing({ timeoutMs: 10 })).toBe(true)
  })
})
