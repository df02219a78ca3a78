import fastifyWebsocket from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyPlugin from 'fastify-plugin'

import { resolveServerOptions, type SwitchyardOptions } from './server-options.js'
import { ServerReporter, serverId, serverRegistryOf } from './server-reporter.js'
import type { ServerStats } from './server-stats.js'
import { SwitchyardServer } from './switchyard-server.js'
import { WebsocketUpgrades } from './websocket-upgrade.js'

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
 * Upgrades go through fastify's routing like any request (the app's hooks run, its own `{ websocket: true }` routes
 * win), and the ones the application accepts are completed by Switchyard itself (`WebsocketUpgrades`), so that an
 * open socket keeps nothing of fastify's request; errors on Switchyard's sockets are logged at debug level.
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
    await registerWebsocketSupport(app, server)
    server.attachTo(app.websocketServer)
    const upgrades = new WebsocketUpgrades(app.server, app.websocketServer)
    app.addHook('onClose', (_instance, done) => {
      upgrades.close()
      done()
    })
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
    await app.register(catchAllRoutes(server, upgrades))
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

/**
 * Registers @fastify/websocket unless the app already did (`app.hasDecorator('websocketServer')`), and has closing
 * fastify shut the server down gracefully: every socket gets 1001 before the WebSocket server closes.
 */
async function registerWebsocketSupport(app: FastifyInstance, server: SwitchyardServer): Promise<void> {
  if (app.hasDecorator('websocketServer')) {
    app.addHook('preClose', () => server.shutdown())
    return
  }
  const log = server.options.logger
  await app.register(fastifyWebsocket, {
    options: { maxPayload: server.options.maxMessageBytes, perMessageDeflate: false },
    preClose: async function preClose(this: FastifyInstance) {
      await server.shutdown()
      this.websocketServer.close()
    },
    // For the app's own `{ websocket: true }` routes; Switchyard's sockets log their errors themselves.
    errorHandler: (err) => {
      log.debug({ err }, 'websocket error')
    },
  })
}

/**
 * The catch-all routes (`/*`, every method) and their raw-body parser, in an encapsulated context so the app's own
 * routes and parsers are untouched. A WebSocket upgrade is decided by the application in `preValidation` and, once
 * accepted, completed there (`WebsocketUpgrades`); every other request is handed to the application as HTTP.
 */
function catchAllRoutes(server: SwitchyardServer, upgrades: WebsocketUpgrades) {
  const { maxBodyBytes } = server.options
  return async function switchyardRoutes(routes: FastifyInstance): Promise<void> {
    routes.removeAllContentTypeParsers()
    routes.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => {
      done(null, body)
    })
    routes.addHook('preValidation', async (request, reply) => {
      if (!request.ws || request.method !== 'GET') return
      const decision = await server.handshake(request.raw)
      if (decision.kind === 'accept') {
        return upgrades.complete(request, reply, (socket) => {
          server.attachSocket(socket, request.raw)
        })
      }
      if (decision.kind === 'gone') {
        reply.hijack()
        request.raw.socket.destroy()
        return reply
      }
      return reply.code(decision.status).type('text/plain; charset=utf-8').send(decision.body)
    })
    const handler = (request: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack()
      server.serveHttp(request.raw, reply.raw, toBytes(request.body))
    }
    routes.route({ method: 'GET', url: '/*', bodyLimit: maxBodyBytes, handler })
    const others = routes.supportedMethods.filter((method) => method !== 'GET' && method !== 'HEAD')
    routes.route({ method: others, url: '/*', bodyLimit: maxBodyBytes, handler })
  }
}
