import type { Application } from '../application.js'
import { InvalidOptionError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import { positiveInteger } from '../layers/layer-options.js'
import { defaultLogger, type Logger } from '../logger.js'

/** Transport limits and timeouts; every one is optional and validated once when the server starts. */
export interface ServerLimits {
  /**
   * Largest WebSocket message accepted from a client, in bytes (ws `maxPayload`); over it the socket closes with 1009.
   * @defaultValue 1_048_576 (1 MiB)
   */
  readonly maxMessageBytes?: number
  /**
   * Bytes a socket may hold unsent before the client counts as slow: it is closed with 1013 and the drop counted.
   * @defaultValue 1_048_576 (1 MiB)
   */
  readonly maxOutboundBytes?: number
  /**
   * How long the application has to accept or close a WebSocket handshake before it is rejected with HTTP 403.
   * @defaultValue 5000
   */
  readonly handshakeTimeoutMs?: number
  /**
   * A socket silent this long is pinged (one shared sweep timer serves every socket).
   * @defaultValue 20_000
   */
  readonly pingIntervalMs?: number
  /**
   * A socket silent this long (no frame, no pong) is terminated; must be greater than `pingIntervalMs`.
   * @defaultValue 30_000
   */
  readonly pingTimeoutMs?: number
  /**
   * After a disconnect (or on shutdown) the application gets this long to finish before it is cancelled.
   * @defaultValue 10_000
   */
  readonly applicationCloseTimeoutMs?: number
  /**
   * How long a slow client's close frame may wait to be flushed before the socket is terminated.
   * @defaultValue 2000
   */
  readonly slowClientCloseGraceMs?: number
  /**
   * Largest HTTP request body, in bytes; over it the request is answered with 413.
   * @defaultValue 1_048_576 (1 MiB)
   */
  readonly maxBodyBytes?: number
  /**
   * How often the plugin reports its connections and counters to the layer's task store (dashboards list every
   * server); a server is shown dead once its report is three of these old.
   * @defaultValue 5000
   */
  readonly statsReportIntervalMs?: number
}

/** What `app.register(switchyard, options)` and `serve(options)` take. */
export interface SwitchyardOptions extends ServerLimits {
  /** The application every WebSocket and HTTP connection is handed to (a router, a consumer's `asApplication()`...). */
  readonly application: Application
  /**
   * The channel layer put in every scope as `channelLayer`.
   * @defaultValue none (consumers then run without groups)
   */
  readonly layer?: ChannelLayer
  /**
   * pino logger for the server; each connection logs through a child carrying `connId`. Payloads are never logged.
   * @defaultValue Switchyard's stderr logger (level from `SWITCHYARD_LOG_LEVEL`)
   */
  readonly logger?: Logger
}

export const DEFAULT_SERVER_LIMITS = Object.freeze({
  maxMessageBytes: 1_048_576,
  maxOutboundBytes: 1_048_576,
  handshakeTimeoutMs: 5_000,
  pingIntervalMs: 20_000,
  pingTimeoutMs: 30_000,
  applicationCloseTimeoutMs: 10_000,
  slowClientCloseGraceMs: 2_000,
  maxBodyBytes: 1_048_576,
  statsReportIntervalMs: 5_000,
})

export type ResolvedServerLimits = { readonly [K in keyof typeof DEFAULT_SERVER_LIMITS]: number }

export interface ResolvedSwitchyardOptions extends ResolvedServerLimits {
  readonly application: Application
  readonly layer: ChannelLayer | undefined
  readonly logger: Logger
}

const LIMIT_KEYS = Object.keys(DEFAULT_SERVER_LIMITS) as (keyof typeof DEFAULT_SERVER_LIMITS)[]
const OTHER_KEYS = ['application', 'layer', 'logger']

// Daphne's settings are seconds under these names; a ported config should fail loudly, not run 1000x too short.
const RENAMED_KEYS: Readonly<Record<string, string>> = {
  websocket_connect_timeout: 'handshakeTimeoutMs (milliseconds)',
  ping_interval: 'pingIntervalMs (milliseconds)',
  ping_timeout: 'pingTimeoutMs (milliseconds)',
  application_close_timeout: 'applicationCloseTimeoutMs (milliseconds)',
  maxPayload: 'maxMessageBytes',
  bodyLimit: 'maxBodyBytes',
}

/**
 * Validates server options, fills defaults and freezes the result. `extraKeys` are names the caller handles itself
 * (`serve()`'s `host` and `port`).
 */
export function resolveServerOptions(
  options: SwitchyardOptions | undefined,
  extraKeys: readonly string[] = [],
): ResolvedSwitchyardOptions {
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError('options', 'an object with an `application`', options)
  }
  const given = options as unknown as Readonly<Record<string, unknown>>
  for (const key of Object.keys(given)) {
    if (OTHER_KEYS.includes(key) || extraKeys.includes(key) || (LIMIT_KEYS as string[]).includes(key)) continue
    const hint = RENAMED_KEYS[key]
    throw new InvalidOptionError(
      key,
      hint === undefined ? 'absent (unknown option)' : `renamed: use ${hint}`,
      given[key],
    )
  }
  if (typeof given.application !== 'function') {
    throw new InvalidOptionError('application', 'a function (scope, receive, send) => Promise<void>', given.application)
  }
  const limits = {} as Record<keyof typeof DEFAULT_SERVER_LIMITS, number>
  for (const key of LIMIT_KEYS) limits[key] = positiveInteger(key, given[key], DEFAULT_SERVER_LIMITS[key])
  // Silence is measured from the last frame or pong: a timeout within the ping interval would drop idle clients
  // that were never pinged.
  if (limits.pingTimeoutMs <= limits.pingIntervalMs) {
    throw new InvalidOptionError(
      'pingTimeoutMs',
      `greater than \`pingIntervalMs\` (${limits.pingIntervalMs})`,
      limits.pingTimeoutMs,
    )
  }
  return Object.freeze({
    ...limits,
    application: given.application as Application,
    layer: resolveLayer(given.layer),
    logger: resolveLogger(given.logger),
  })
}

function resolveLayer(value: unknown): ChannelLayer | undefined {
  if (value === undefined) return undefined
  if (!hasMethod(value, 'groupAdd') || !hasMethod(value, 'groupSend')) {
    throw new InvalidOptionError('layer', 'a ChannelLayer (e.g. new InMemoryChannelLayer())', value)
  }
  return value as ChannelLayer
}

function resolveLogger(value: unknown): Logger {
  if (value === undefined) return defaultLogger()
  if (!hasMethod(value, 'child') || !hasMethod(value, 'error')) {
    throw new InvalidOptionError('logger', 'a pino logger', value)
  }
  return value as Logger
}

function hasMethod(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function'
}
