import fastifyWebsocket from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import fastifyPlugin from 'fastify-plugin'
import type { WebSocket } from 'ws'

import { resolveServerOptions, type SwitchyardOptions } from './server-options.js'
import { ServerReporter, serverId, serverRegistryOf } from './server-reporter.js'
import type { ServerStats } from './server-stats.js'
import { SwitchyardServer } from './switchyard-server.js'

/** What the plugin decorates the fastify instance with, as `app.switchyard`. */
export interface SwitchyardDecoration {
  /** Counters and live connection counts. */
  stats(): ServerStats
  /** What this server reports under in the layer's server registry: `<host>:<pid>:<port or 'unlistened'>`. */
  serverId(): string
  /** The resolved, frozen options. */
  readonly options: SwitchyardServer['options']
  /** The server runtime (heartbeat, connections); for tests and diagnostics. */
  readonly server: SwitchyardServer
}

declare module 'fastify' {
  interface FastifyInstance {
    switchyard: SwitchyardDecoration
  }
}

// Keys fastify itself reads from register() options; they are not ours to validate.
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

/**
 * Serves an application over fastify: every WebSocket upgrade and every HTTP request that no other route matches
 * goes to `application` (fastify prefers static and parametric routes over the catch-all, so a page at `/` still
 * wins). The catch-all route (`/*`, all methods) and its raw-body parser live in an encapsulated child context, so
 * the rest of the app's routes and parsers are untouched.
 *
 * Registers `@fastify/websocket` unless the app already did (`app.hasDecorator('websocketServer')`). When the app
 * registered it, its `options.maxPayload` applies on the wire (Switchyard still closes over-limit messages with
 * 1009), and its own `preClose` runs before Switchyard's: pass `preClose: (done) => done()` so clients get 1001.
 *
 * Decorates the instance with `app.switchyard` (`stats()`, `serverId()`, `options`). When the layer keeps a task
 * store, the server reports its stats to the store's server registry every `statsReportIntervalMs` (first right
 * after ready and after listen), so a dashboard on any process of a Redis layer lists every server. Closing fastify shuts down gracefully:
 * every socket gets 1001, every application its disconnect event and up to `applicationCloseTimeoutMs` to finish.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { InMemoryChannelLayer, switchyard } from 'switchyard-channels'
 *
 * const app = Fastify()
 * app.get('/', async () => 'the page') // wins over the catch-all
 * await app.register(switchyard, { application, layer: new InMemoryChannelLayer(), maxMessageBytes: 65_536 })
 * await app.listen({ port: 8000 })
 * app.switchyard.stats() // { connections: 0, accepted: 0, ... }
 * ```
 */
export const switchyard = fastifyPlugin(
  async function switchyardPlugin(app: FastifyInstance, registerOptions: SwitchyardOptions): Promise<void> {
    const given = Object.fromEntries(
      Object.entries(registerOptions).filter(([key]) => !REGISTER_KEYS.includes(key)),
    ) as unknown as SwitchyardOptions
    const options = resolveServerOptions(given)
    const server = new SwitchyardServer(options)
    // Ours when we register @fastify/websocket: its per-socket error listener may then be swapped for a lean one.
    const ownsWebsocketPlugin = !app.hasDecorator('websocketServer')
    // Client-side faults (bad frames, oversized messages, resets): ws closes the socket itself.
    const onSocketError = (error: Error): void => {
      options.logger.debug({ err: error }, 'websocket error')
    }

    if (!ownsWebsocketPlugin) {
      app.addHook('preClose', () => server.shutdown())
    } else {
      await app.register(fastifyWebsocket, {
        options: { maxPayload: options.maxMessageBytes, perMessageDeflate: false },
        preClose: async function preClose(this: FastifyInstance) {
          await server.shutdown()
          this.websocketServer.close()
        },
        errorHandler: (error) => {
          onSocketError(error)
        },
      })
    }
    server.attachTo(app.websocketServer)
    const port = (): number | undefined => {
      const address = app.server.address()
      return typeof address === 'object' && address !== null ? address.port : undefined
    }
    reportStats(app, server, port)
    app.decorate('switchyard', {
      stats: () => server.stats(),
      serverId: () => serverId(port()),
      options,
      server,
    } satisfies SwitchyardDecoration)

    await app.register(async function switchyardRoutes(routes) {
      routes.removeAllContentTypeParsers()
      routes.addContentTypeParser(
        '*',
        { parseAs: 'buffer', bodyLimit: options.maxBodyBytes },
        (_request, body, done) => {
          done(null, body)
        },
      )
      routes.addHook('preValidation', async (request, reply) => {
        if (!request.ws || request.method !== 'GET') return
        const decision = await server.handshake(request.raw)
        if (decision.kind === 'accept') {
          upgradeResponses.set(request.raw, reply.raw)
          return
        }
        if (decision.kind === 'gone') {
          reply.hijack()
          request.raw.socket.destroy()
          return reply
        }
        return reply.code(decision.status).type('text/plain; charset=utf-8').send(decision.body)
      })
      const httpHandler = (request: FastifyRequest, reply: FastifyReply): void => {
        reply.hijack()
        server.serveHttp(request.raw, reply.raw, toBytes(request.body))
      }
      routes.route({
        method: 'GET',
        url: '/*',
        bodyLimit: options.maxBodyBytes,
        handler: httpHandler,
        wsHandler: (socket: WebSocket, request: FastifyRequest) => {
          releaseUpgradeRequest(socket, request.raw, ownsWebsocketPlugin ? onSocketError : undefined)
          server.attachSocket(socket, request.raw)
        },
      })
      routes.route({
        method: routes.supportedMethods.filter((method) => method !== 'GET' && method !== 'HEAD'),
        url: '/*',
        bodyLimit: options.maxBodyBytes,
        handler: httpHandler,
      })
    })
  },
  { fastify: '5.x', name: 'switchyard' },
)

export default switchyard

/** Reports the server's stats to the layer's server registry while the app runs (when the layer has one). */
function reportStats(app: FastifyInstance, server: SwitchyardServer, port: () => number | undefined): void {
  const registry = serverRegistryOf(server.options.layer)
  if (registry === undefined) return
  const reporter = new ServerReporter({
    registry,
    stats: () => server.stats(),
    port,
    intervalMs: server.options.statsReportIntervalMs,
    log: server.options.logger,
  })
  // Not awaited: a slow or down layer must not hold up startup (report() logs its own failures).
  app.addHook('onReady', (done) => {
    reporter.start()
    void reporter.report()
    done()
  })
  app.addHook('onListen', (done) => {
    void reporter.report()
    done()
  })
  app.addHook('onClose', () => reporter.stop())
}

function toBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  return new Uint8Array(0)
}

/** The placeholder response @fastify/websocket made for each accepted upgrade, until the upgrade completes. */
const upgradeResponses = new WeakMap<IncomingMessage, ServerResponse>()

/**
 * Lets fastify's request and reply for a completed upgrade be collected (a few KiB per idle connection otherwise).
 * Two things keep them alive as long as the socket: the placeholder response @fastify/websocket assigned to the TCP
 * socket (it never finishes, so fastify's finish listener holds the reply), detached here as Node does after a
 * response; and @fastify/websocket's `error` listener on the WebSocket, a closure over request and reply. When we
 * registered the plugin, its error handler only logs at debug, so the listener (the one it added just before
 * calling the wsHandler) is swapped for a shared one; an app's own registration keeps its handler.
 */
function releaseUpgradeRequest(
  socket: WebSocket,
  request: IncomingMessage,
  onSocketError: ((error: Error) => void) | undefined,
): void {
  const response = upgradeResponses.get(request)
  upgradeResponses.delete(request)
  const tcp = request.socket as Partial<{ _httpMessage: unknown }> | null
  if (response !== undefined && tcp !== null && tcp._httpMessage === response) response.detachSocket(request.socket)
  if (onSocketError === undefined) return
  const listeners = socket.listeners('error')
  const added = listeners[listeners.length - 1]
  if (added === undefined) return
  socket.off('error', added as (error: Error) => void)
  socket.on('error', onSocketError)
}
