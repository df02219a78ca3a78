import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyPlugin from 'fastify-plugin'

import { InvalidOptionError } from '../errors.js'
import {
  isLoopbackAddress,
  isLoopbackHost,
  LOOPBACK_HOST_REFUSAL,
  MISDIRECTED_REQUEST,
  requestHost,
} from '../server/loopback-host.js'
import { createMetrics, type MetricsOptions, type SwitchyardMetrics } from './metrics.js'
import { assertMonitoringToken, secretMatcher } from './monitoring-token.js'

/** Enough of a refused `Host` to recognise it in the log. */
const MAX_LOGGED_HOST = 200

export interface SwitchyardMetricsOptions extends MetricsOptions {
  /**
   * The route serving the text exposition.
   * @defaultValue '/metrics'
   */
  readonly path?: string
  /**
   * When set, a scrape must send `Authorization: Bearer <token>`; others get 401. At least 16 characters.
   * @defaultValue undefined: loopback clients only (403 for others), and only by a loopback name (`Host` of
   * `localhost`, 127.0.0.0/8 or `[::1]`; 421 otherwise), so a DNS-rebound page cannot read the metrics
   */
  readonly token?: string
  /** Metrics created elsewhere to serve instead of creating them (the other metric options are then ignored). */
  readonly metrics?: SwitchyardMetrics
}

/**
 * Serves Prometheus metrics (`createMetrics`) at `path`. Register it beside the `switchyard` plugin, in either
 * order: server counters are read from `app.switchyard.stats()` at scrape time when that decoration exists.
 * Metrics it created stop recording when fastify closes.
 *
 * Without `token`, it answers loopback clients only (403 otherwise), and only requests addressed to a loopback name
 * (`Host: localhost`, 127.0.0.0/8 or `[::1]`, any port; 421 otherwise): a scraper on another host needs the token,
 * as the dashboard does.
 *
 * @example
 * ```ts
 * await app.register(switchyard, { application, layer })
 * await app.register(switchyardMetrics, { layer, token: process.env.METRICS_TOKEN })
 * ```
 */
export const switchyardMetrics = fastifyPlugin(
  async function switchyardMetrics(app: FastifyInstance, options: SwitchyardMetricsOptions) {
    const path = options.path ?? '/metrics'
    if (typeof path !== 'string' || !path.startsWith('/'))
      throw new InvalidOptionError('path', 'a path starting with /', path)
    const { token } = options
    assertMonitoringToken(token)
    const metrics = options.metrics ?? createMetrics(options)
    if (options.metrics === undefined) {
      app.addHook('onClose', async () => {
        metrics.close()
      })
    }
    metrics.setServerStats(() => (app.hasDecorator('switchyard') ? app.switchyard.stats() : undefined))
    const matchesToken = token === undefined ? undefined : secretMatcher(token)

    app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
      const host = requestHost(request.headers)
      if (matchesToken === undefined && !isLoopbackAddress(request.socket.remoteAddress)) {
        return reply
          .code(403)
          .send({ error: 'Forbidden', message: 'Without a token, /metrics answers loopback clients only' })
      }
      if (matchesToken === undefined && !isLoopbackHost(host)) {
        request.log.info({ host: host?.slice(0, MAX_LOGGED_HOST) }, 'metrics scrape refused: not a loopback host name')
        return reply.code(MISDIRECTED_REQUEST).send({ error: 'Misdirected Request', message: LOOPBACK_HOST_REFUSAL })
      }
      if (matchesToken !== undefined && !hasToken(request.headers.authorization, matchesToken)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send({ error: 'Unauthorized', message: 'Send Authorization: Bearer <token> to read metrics' })
      }
      const body = await metrics.registry.metrics()
      return reply.type(metrics.registry.contentType).send(body)
    })
  },
  { name: 'switchyard-metrics', fastify: '5.x' },
)

function hasToken(header: string | undefined, matchesToken: (sent: string) => boolean): boolean {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
  const sent = match?.[1]
  return sent !== undefined && matchesToken(sent)
}
