import { randomBytes } from 'node:crypto'

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { refuse, registerDashboardApi } from './dashboard-api.js'
import { registerTaskApi } from './dashboard-task-api.js'
import { dashboardAuthenticator, queryToken, sessionCookieHeader, type AuthOutcome } from './dashboard-auth.js'
import { resolveDashboardOptions, type DashboardOptions, type ResolvedDashboardOptions } from './dashboard-options.js'
import { dashboardPage, refusalPage } from './dashboard-page.js'
import { StateSampler } from './state-sampler.js'

/**
 * A live dashboard (like Flower) for a channel layer: channels (highlighted over their `backlog` monitor's
 * threshold), groups, workers, every server's connections, dead letters with inspect, replay and purge, periodic
 * tasks with remove, cancelling a task by id, and a chart of throughput and backlog. One HTML page with an inline
 * script (no build step) polling a JSON API under `<path>api/`.
 *
 * Never open by default: with neither `token` nor `authorize`, only loopback clients get in, and only when they
 * address it by a loopback name (DNS rebinding: a foreign `Host` gets 421). Refusals are 401 (a short page for the
 * page, JSON for the API). POSTs must be JSON from the page's own origin (CSRF). The session cookie `?token=` sets
 * lasts `sessionTtlMs`.
 *
 * The plugin is encapsulated: its auth hook guards its own routes only.
 *
 * @example
 * ```ts
 * const app = Fastify()
 * await app.register(switchyard, { application, layer })
 * await app.register(switchyardDashboard, { layer, token: process.env.DASHBOARD_TOKEN })
 * await app.listen({ port: 8000 }) // open http://127.0.0.1:8000/switchyard/?token=...
 * ```
 */
export async function switchyardDashboard(app: FastifyInstance, registerOptions: DashboardOptions): Promise<void> {
  const options = resolveDashboardOptions(registerOptions)
  const { path, layer } = options
  // Under a register() prefix the browser sees the prefixed path: cookies and redirects use it.
  const publicPath = `${app.prefix}${path}`
  const sampler = new StateSampler(layer, options, app.log)

  app.addHook('onReady', async () => {
    sampler.start()
  })
  app.addHook('onClose', async () => {
    sampler.stop()
  })

  app.addHook('onRequest', guardRequest(dashboardAuthenticator(options), publicPath))
  if (path !== '/') {
    app.get(path.slice(0, -1), async (_request, reply) => reply.redirect(publicPath, 308))
  }
  app.get(path, pageHandler(options, publicPath))
  registerDashboardApi(app, {
    path,
    layer,
    sampler,
    sampleIntervalMs: options.sampleIntervalMs,
    backlog: options.backlog,
  })
  registerTaskApi(app, { path, layer })
}

/**
 * The hook in front of every dashboard route: security headers, then who may get in (a short page for the page,
 * JSON for the API when refused), then the CSRF check on POSTs.
 */
function guardRequest(authenticate: (request: FastifyRequest) => Promise<AuthOutcome>, publicPath: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    void reply.headers({
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    })
    const outcome = await authenticate(request)
    if (!outcome.ok) {
      request.log.info(
        { remoteAddress: request.socket.remoteAddress, status: outcome.status },
        'dashboard request refused',
      )
      if (isPageRequest(request, publicPath)) {
        return reply
          .code(outcome.status)
          .type('text/html; charset=utf-8')
          .send(refusalPage(outcome.status, outcome.reason))
      }
      return refuse(reply, outcome.status, outcome.status === 401 ? 'unauthorized' : 'misdirected', outcome.reason)
    }
    if (request.method === 'POST') {
      const refusal = crossSiteRefusal(request, outcome.via === 'bearer')
      if (refusal !== undefined) return refuse(reply, refusal.status, refusal.error, refusal.message)
    }
    return undefined
  }
}

/** The page; a `?token=` in its URL is traded for the session cookie first. */
function pageHandler(options: ResolvedDashboardOptions, publicPath: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (options.token !== undefined && options.authorize === undefined && queryToken(request) !== undefined) {
      // Trade the token in the URL for a cookie, and drop it from the address bar and history.
      // `request.protocol` follows fastify's `trustProxy`: https at the proxy makes the cookie Secure.
      const session = sessionCookieHeader(options.token, {
        path: publicPath,
        secure: request.protocol === 'https',
        ttlMs: options.sessionTtlMs,
        issuedAtMs: Date.now(),
      })
      void reply.header('set-cookie', session)
      return reply.redirect(`${publicPath}${queryWithout(request, 'token')}`, 303)
    }
    return sendPage(reply)
  }
}

function sendPage(reply: FastifyReply): FastifyReply {
  const nonce = randomBytes(16).toString('base64')
  return reply
    .type('text/html; charset=utf-8')
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
        `img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    )
    .send(dashboardPage(nonce))
}

function isPageRequest(request: FastifyRequest, publicPath: string): boolean {
  const pathname = request.url.split('?', 1)[0] ?? ''
  return request.method === 'GET' && (pathname === publicPath || `${pathname}/` === publicPath)
}

/**
 * CSRF: a cross-site form can post `text/plain` or form data, never `application/json` without a CORS preflight
 * (which this API never grants); and a browser names the page's origin in `Origin` on every POST. A request with
 * no `Origin` is a script or curl, let in only with a bearer token (which a browser never adds cross-site).
 */
function crossSiteRefusal(
  request: FastifyRequest,
  bearer: boolean,
): { status: number; error: string; message: string } | undefined {
  const contentType = request.headers['content-type'] ?? ''
  if (!/^application\/json\s*(;|$)/i.test(contentType)) {
    return {
      status: 415,
      error: 'unsupported-media-type',
      message: 'POST a JSON body (Content-Type: application/json)',
    }
  }
  const origin = request.headers.origin
  if (origin === undefined) {
    if (bearer) return undefined
    return { status: 403, error: 'cross-site', message: 'an Origin header from this dashboard is required' }
  }
  if (origin !== `${request.protocol}://${request.host}`) {
    return { status: 403, error: 'cross-site', message: 'POSTs are accepted from the dashboard page only' }
  }
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') {
    return { status: 403, error: 'cross-site', message: 'POSTs are accepted from the dashboard page only' }
  }
  return undefined
}

function queryWithout(request: FastifyRequest, name: string): string {
  const search = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '')
  search.delete(name)
  const rest = search.toString()
  return rest === '' ? '' : `?${rest}`
}
