import type { FastifyRequest } from 'fastify'

import { InvalidOptionError } from '../../errors.js'
import type { ChannelLayer } from '../../layers/channel-layer.js'
import { BacklogMonitor } from '../backlog-monitor.js'
import { assertMonitoringToken } from '../monitoring-token.js'

/** `app.register(switchyardDashboard, options)`. */
export interface DashboardOptions {
  /** The layer to show: its `inspect()` snapshot and, on `layer.tasks`, its dead letters. */
  readonly layer: ChannelLayer
  /**
   * Where the page is served; the JSON API lives under `<path>api/`. Starts and ends with `/`.
   * @defaultValue '/switchyard/'
   */
  readonly path?: string
  /**
   * A shared secret: `Authorization: Bearer <token>`, or `?token=<token>` once on the page (it sets an HttpOnly
   * cookie). At least 16 characters. Ignored when `authorize` is given.
   * @defaultValue undefined: with no `authorize` either, only loopback clients (127.0.0.0/8, ::1) get in, and only
   * by a loopback name (`Host` of `localhost`, 127.0.0.0/8 or `[::1]`; others get 421), against DNS rebinding
   */
  readonly token?: string
  /**
   * How long the session cookie `?token=` sets stays valid: its `Max-Age`, and the most age the server accepts.
   * @defaultValue 43_200_000 (12 hours)
   */
  readonly sessionTtlMs?: number
  /**
   * Your own check (a session, an SSO header); resolves to true to let the request in. Takes precedence over `token`.
   * @defaultValue undefined
   */
  readonly authorize?: (request: FastifyRequest) => boolean | Promise<boolean>
  /**
   * How often the throughput and backlog chart gets a point.
   * @defaultValue 10_000
   */
  readonly sampleIntervalMs?: number
  /**
   * How far back the chart reaches; the server keeps `historyMs / sampleIntervalMs` points.
   * @defaultValue 3_600_000
   */
  readonly historyMs?: number
  /**
   * A running monitor whose latest alerts the page shows: channels over their threshold are highlighted.
   * @defaultValue undefined (no highlighting)
   */
  readonly backlog?: BacklogMonitor
}

export interface ResolvedDashboardOptions {
  readonly layer: ChannelLayer
  readonly path: string
  readonly token: string | undefined
  readonly sessionTtlMs: number
  readonly authorize: ((request: FastifyRequest) => boolean | Promise<boolean>) | undefined
  readonly sampleIntervalMs: number
  readonly historyMs: number
  readonly backlog: BacklogMonitor | undefined
}

export const DEFAULT_DASHBOARD_OPTIONS = Object.freeze({
  path: '/switchyard/',
  sessionTtlMs: 43_200_000,
  sampleIntervalMs: 10_000,
  historyMs: 3_600_000,
})

/** A session lasts at least a second: its cookie's `Max-Age` is in whole seconds. */
const MIN_SESSION_TTL_MS = 1_000
/** No more points than this, whatever the ratio of `historyMs` to `sampleIntervalMs`. */
export const MAX_HISTORY_POINTS = 10_000
const PATH_PATTERN = /^\/(?:[A-Za-z0-9._~-]+\/)*$/

// Keys fastify itself reads from register() options; they are not ours to validate.
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])
const KNOWN_KEYS = new Set([
  'layer',
  'path',
  'token',
  'sessionTtlMs',
  'authorize',
  'sampleIntervalMs',
  'historyMs',
  'backlog',
])

/** Spreads the defaults, validates every field once and freezes the result. */
export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  const given = options as unknown as Readonly<Record<string, unknown>>
  for (const key of Object.keys(given)) {
    if (!KNOWN_KEYS.has(key) && !REGISTER_KEYS.has(key))
      throw new InvalidOptionError(key, 'absent (unknown option)', given[key])
  }
  const merged = { ...DEFAULT_DASHBOARD_OPTIONS, ...options }
  const { layer, path, token, sessionTtlMs, authorize, sampleIntervalMs, historyMs, backlog } = merged
  if (typeof layer !== 'object' || (layer as unknown) === null) {
    throw new InvalidOptionError('layer', 'a channel layer', layer)
  }
  if (typeof path !== 'string' || !PATH_PATTERN.test(path)) {
    throw new InvalidOptionError('path', 'a URL path that starts and ends with "/" (e.g. "/switchyard/")', path)
  }
  assertMonitoringToken(token)
  if (!Number.isSafeInteger(sessionTtlMs) || sessionTtlMs < MIN_SESSION_TTL_MS) {
    throw new InvalidOptionError('sessionTtlMs', `an integer of at least ${MIN_SESSION_TTL_MS}`, sessionTtlMs)
  }
  if (authorize !== undefined && typeof authorize !== 'function') {
    throw new InvalidOptionError('authorize', 'a function (request) => boolean | Promise<boolean>', authorize)
  }
  if (!Number.isInteger(sampleIntervalMs) || sampleIntervalMs < 50) {
    throw new InvalidOptionError('sampleIntervalMs', 'an integer of at least 50', sampleIntervalMs)
  }
  if (!Number.isInteger(historyMs) || historyMs < sampleIntervalMs) {
    throw new InvalidOptionError('historyMs', 'an integer no smaller than `sampleIntervalMs`', historyMs)
  }
  if (historyMs / sampleIntervalMs > MAX_HISTORY_POINTS) {
    throw new InvalidOptionError('historyMs', `at most ${MAX_HISTORY_POINTS} times \`sampleIntervalMs\``, historyMs)
  }
  if (backlog !== undefined && !(backlog instanceof BacklogMonitor)) {
    throw new InvalidOptionError('backlog', 'a BacklogMonitor', backlog)
  }
  return Object.freeze({ layer, path, token, sessionTtlMs, authorize, sampleIntervalMs, historyMs, backlog })
}
