import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'

import { InvalidOptionError } from '../errors.js'
import { switchyard } from './plugin.js'
import { resolveServerOptions, type SwitchyardOptions } from './server-options.js'

/** `serve()`'s options: the plugin's, plus where to listen. */
export interface ServeOptions extends SwitchyardOptions {
  /**
   * Interface to listen on; `0.0.0.0` (or `::`) to accept connections from other machines.
   * @defaultValue '127.0.0.1'
   */
  readonly host?: string
  /**
   * TCP port; 0 picks a free one (read it from the result).
   * @defaultValue `PORT` from the environment, else 8000
   */
  readonly port?: number
  /**
   * Registers more plugins and routes on the app (a dashboard, metrics) after the `switchyard` plugin, before it
   * listens.
   * @defaultValue undefined
   */
  readonly configure?: (app: FastifyInstance) => unknown
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string
  readonly port: number
  /** The fastify instance; `app.switchyard.stats()` has the counters. */
  readonly app: FastifyInstance
  /** Graceful shutdown (1001 to every socket, applications get their disconnect); idempotent. */
  close(): Promise<void>
}

/**
 * Starts fastify with the `switchyard` plugin and listens. The quickest way to run an application; build your own
 * fastify instance and register the plugin when you need other routes or plugins.
 *
 * @example
 * ```ts
 * const server = await serve({ application, layer: new InMemoryChannelLayer(), port: 0 })
 * console.log(server.url) // http://127.0.0.1:41234
 * await server.close()
 * ```
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { host = '127.0.0.1', port = defaultPort(), configure, ...pluginOptions } = options
  if (typeof host !== 'string' || host === '') throw new InvalidOptionError('host', 'a non-empty string', host)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InvalidOptionError('port', 'an integer from 0 to 65535', port)
  }
  if (configure !== undefined && typeof configure !== 'function') {
    throw new InvalidOptionError('configure', 'a function (app) => void | Promise', configure)
  }
  // Validated here too so a bad option fails before fastify is built.
  const resolved = resolveServerOptions(pluginOptions)
  // Typed as fastify's base logger so `app` is the plain FastifyInstance users know, not one generic over pino.
  const loggerInstance: FastifyBaseLogger = resolved.logger
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    // Graceful close ends Switchyard's sockets and requests itself (preClose); whatever is left after that must not
    // hold it up: idle keep-alive connections, and ones that sent nothing or half a request (a browser's preconnect,
    // a reconnect racing the shutdown), which Node would keep until its headersTimeout, 60 s. Requests of routes
    // added with `configure` are cut too: finish them in a preClose hook of your own.
    forceCloseConnections: true,
  })
  try {
    await app.register(switchyard, pluginOptions)
    await configure?.(app)
    await app.listen({ host, port })
  } catch (error) {
    // A failed start (a bad plugin option, a configure that throws, a port in use) must not leave the app's timers,
    // hooks and the layer's server registration behind: the caller has no handle to close them with.
    await app.close()
    throw error
  }
  const address = app.server.address()
  const boundPort = typeof address === 'object' && address !== null ? address.port : port
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return Object.freeze({
    url: `http://${urlHost}:${boundPort}`,
    port: boundPort,
    app,
    close: () => (closing ??= app.close()),
  })
}

function defaultPort(): number {
  const fromEnv = process.env.PORT
  if (fromEnv === undefined || fromEnv === '') return 8000
  const port = Number(fromEnv)
  if (!Number.isInteger(port)) throw new InvalidOptionError('PORT (environment)', 'an integer port', fromEnv)
  return port
}
