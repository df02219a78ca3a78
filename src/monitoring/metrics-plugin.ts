import { createHash, timingSafeEqual } from 'node:crypto'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyPlugin from 'fastify-plugin'

import { InvalidOptionError } from '../errors.js'
import { createMetrics, type MetricsOptions, type SwitchyardMetrics } from './metrics.js'

export interface SwitchyardMetricsOptions extends MetricsOptions {
  /**
   * The route serving the text exposition.
   * @defaultValue '/metrics'
   */
  readonly path?: string
  /** When set, a scrape must send `Authorization: Bearer <token>`; others get 401. */
  readonly token?: string
  /** Metrics created elsewhere to serve instead of creating them (the other metric options are then ignored). */
  readonly metrics?: SwitchyardMetrics
}

/**
 * Serves Prometheus metrics (`createMetrics`) at `path`. Register it beside the `switchyard` plugin, in either
 * order: server counters are read from `app.switchyard.stats()` at scrape time when that decoration exists.
 * Metrics it created stop recording when fastify closes.
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
    if (token !== undefined && (typeof token !== 'string' || token === '')) {
      throw new InvalidOptionError('token', 'a non-empty string', token)
    }
    const metrics = options.metrics ?? createMetrics(options)
    if (options.metrics === undefined) {
      app.addHook('onClose', async () => {
        metrics.close()
      })
    }
    metrics.setServerStats(() => (app.hasDecorator('switchyard') ? app.switchyard.stats() : undefined))
    const expected = token === undefined ? undefined : digest(token)

    app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
      if (expected !== undefined && !hasToken(request.headers.authorization, expected)) {
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

// Compared as digests so the comparison takes the same time whatever the length of what was sent.
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function hasToken(header: string | undefined, expected: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
  const sent = match?.[1]
  return sent !== undefined && timingSafeEqual(digest(sent), expected)
}
