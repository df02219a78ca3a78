import type { Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'

import type { Application } from '../../src/application.js'
import { InvalidOptionError } from '../../src/errors.js'
import { switchyard } from '../../src/server/plugin.js'
import { DEFAULT_SERVER_LIMITS, resolveServerOptions } from '../../src/server/server-options.js'
import { serve } from '../../src/server/serve.js'
import { captureLogger, closed, connect, text, waitFor } from './helpers.js'

const hello: Application = async (scope, receive, send) => {
  const event = await receive()
  if (scope.type === 'websocket') {
    await send({ type: 'websocket.accept', subprotocol: scope.subprotocols.at(-1) ?? null })
    await receive()
    return
  }
  if (event.type !== 'http.request') return
  await send({ type: 'http.response.start', status: 200 })
  await send({ type: 'http.response.body', body: text('from the application') })
}

const apps: FastifyInstance[] = []
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()))
})

async function listen(app: FastifyInstance): Promise<string> {
  apps.push(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (typeof address !== 'object' || address === null) throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

describe('the switchyard fastify plugin', () => {
  it("lets the app's own routes win over the catch-all and leaves its content-type parsers alone", async () => {
    const app = Fastify()
    app.get('/', async () => 'the page')
    app.post('/api/echo', async (request) => request.body)
    await app.register(switchyard, { application: hello })
    const base = await listen(app)
    expect(await (await fetch(`${base}/`)).text()).toBe('the page')
    const echoed = await fetch(`${base}/api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    })
    expect(await echoed.json()).toEqual({ a: 1 }) // parsed by fastify's JSON parser, not ours
    expect(await (await fetch(`${base}/anything/else`)).text()).toBe('from the application')
    expect(app.switchyard.stats()).toMatchObject({ connections: 0, httpRequests: 0 })
  })

  it('works alongside @fastify/websocket registered by the app, choosing subprotocols for its own sockets', async () => {
    const app = Fastify()
    await app.register(fastifyWebsocket, {
      preClose: (done) => {
        done()
      },
    })
    app.get('/own', { websocket: true }, (socket) => {
      socket.send('own route')
    })
    await app.register(switchyard, { application: hello })
    const base = await listen(app)
    const { socket } = await connect(`${base.replace('http', 'ws')}/ws/`, ['a', 'b'])
    expect(socket.protocol).toBe('b') // the application's choice, not ws's default (the first)
    const own = await connect(`${base.replace('http', 'ws')}/own`, ['x', 'y'])
    expect(own.socket.protocol).toBe('x')
    own.socket.close() // the app's own sockets are the app's to close; fastify's close waits for them
    await closed(own.socket)
    const closing = closed(socket)
    await app.close()
    expect((await closing).code).toBe(1001)
  })

  it('validates options, names the bad one and freezes the result', () => {
    expect(() => resolveServerOptions({ application: hello, maxMessageBytes: -1 })).toThrow(
      new InvalidOptionError('maxMessageBytes', 'a positive integer', -1),
    )
    expect(() => resolveServerOptions({ application: 'nope' } as unknown as { application: Application })).toThrow(
      InvalidOptionError,
    )
    expect(() =>
      resolveServerOptions({ application: hello, ping_interval: 20 } as unknown as { application: Application }),
    ).toThrow(/`ping_interval`.*renamed: use pingIntervalMs/)
    expect(() => resolveServerOptions({ application: hello, maxPayloadBytes: 1 } as never)).toThrow(/unknown option/)
    expect(() => resolveServerOptions({ application: hello, pingIntervalMs: 500, pingTimeoutMs: 500 })).toThrow(
      /`pingTimeoutMs` to be greater than `pingIntervalMs` \(500\), got 500/,
    )
    const resolved = resolveServerOptions({ application: hello, pingIntervalMs: 5, pingTimeoutMs: 12 })
    expect(resolved).toMatchObject({ ...DEFAULT_SERVER_LIMITS, pingIntervalMs: 5, pingTimeoutMs: 12, layer: undefined })
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it('fails registration on an invalid option, and serve() before listening', async () => {
    const app = Fastify()
    apps.push(app)
    await expect(app.register(switchyard, { application: hello, handshakeTimeoutMs: 0 })).rejects.toThrow(
      InvalidOptionError,
    )
    await expect(serve({ application: hello, port: 70_000 })).rejects.toThrow(/`port`/)
  })

  it('closes the app it built when listening fails (a port in use): nothing it started is left running', async () => {
    const first = await serve({ application: hello, port: 0 })
    let started: FastifyInstance | undefined
    let closedHookRan = false
    try {
      const failing = serve({
        application: hello,
        port: first.port,
        configure: (app) => {
          started = app
          app.addHook('onClose', async () => {
            closedHookRan = true
          })
        },
      })
      await expect(failing).rejects.toMatchObject({ code: 'EADDRINUSE' })
      expect(started).toBeDefined()
      expect(closedHookRan).toBe(true)
      expect(started?.server.listening).toBe(false)
    } finally {
      await first.close()
    }
  })

  it("lets fastify's request and reply go once the upgrade is done, and still logs socket errors", async () => {
    const { logger, lines } = captureLogger()
    const app = Fastify()
    const seen: WeakRef<object>[] = []
    app.addHook('onRequest', async (request, reply) => {
      seen.push(new WeakRef(request), new WeakRef(reply))
    })
    await app.register(switchyard, { application: hello, logger })
    const { socket } = await connect(`${(await listen(app)).replace('http', 'ws')}/ws/`)
    // An open socket keeps nothing of the request that opened it.
    await waitFor(() => {
      collectGarbage()
      return seen.every((ref) => ref.deref() === undefined)
    })
    expect(seen).toHaveLength(2)
    // A frame with a reserved opcode: ws reports it on the socket's error event and closes with 1002.
    const raw = (socket as unknown as { _socket: Socket })._socket
    raw.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]))
    expect((await closed(socket)).code).toBe(1002)
    await waitFor(() => lines.some((line) => line.msg === 'websocket error'))
  })
})

/** A full garbage collection, in a test process started without --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}
