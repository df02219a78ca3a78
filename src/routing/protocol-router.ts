/** `ProtocolTypeRouter`: the top of an application, one branch per scope type. */
import type { Application, Receive, Scope, Send } from '../application.js'
import { InvalidOptionError, RouteNotFoundError, UnknownProtocolError } from '../errors.js'
import { describeKey } from './describe-key.js'

/** An application per scope type; a type left out is refused with `UnknownProtocolError`. */
export interface ProtocolMapping {
  readonly websocket?: Application
  readonly http?: Application
  /** Background channels, served by a worker (usually a `ChannelNameRouter`). */
  readonly channel?: Application
}

const PROTOCOLS: readonly string[] = ['websocket', 'http', 'channel'] satisfies (keyof ProtocolMapping)[]

/**
 * Dispatches on `scope.type`. An `http` or `websocket` scope with no application rejects with `RouteNotFoundError`,
 * so the server answers 404 (a browser opening a WebSocket-only app's URL is not a server error); any other type
 * with no application (or a scope without a type) rejects with `UnknownProtocolError` naming it and the configured
 * ones. As in Channels 4 there is no implicit `http` branch. Called without `new`, like Channels' class.
 *
 * @example
 * ```ts
 * export const app = ProtocolTypeRouter({
 *   websocket: AllowedHostsOriginValidator(URLRouter([route('ws/chat/:room/', ChatConsumer.asApp())])),
 *   channel: ChannelNameRouter({ thumbnails: ThumbnailConsumer.asApp() }),
 * })
 * ```
 */
export function ProtocolTypeRouter(mapping: ProtocolMapping): Application {
  const given: unknown = mapping
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionError('mapping', 'an object such as { websocket: app, http: app }', given)
  }
  // A Map, not the object: a scope type such as "constructor" must not find Object.prototype's.
  const applications = new Map<string, Application>()
  for (const [type, app] of Object.entries(given) as [string, unknown][]) {
    if (!PROTOCOLS.includes(type)) {
      throw new InvalidOptionError('mapping key', `one of ${PROTOCOLS.join(', ')}`, type)
    }
    if (app === undefined) continue
    if (typeof app !== 'function') throw new InvalidOptionError(type, 'an application function', app)
    applications.set(type, app as Application)
  }
  const configured = [...applications.keys()].map((type) => `"${type}"`).join(', ') || 'none'

  // Not async: the application's promise is returned as is, so a connection holds no suspended router frame.
  return (scope: Scope, receive: Receive, send: Send): Promise<void> => {
    try {
      const type: unknown = (scope as { readonly type?: unknown } | undefined)?.type
      const app = typeof type === 'string' ? applications.get(type) : undefined
      if (app === undefined) {
        const what = type === undefined ? 'a scope without a type' : `scope type ${describeKey(type)}`
        const message = `No application configured for ${what}; ProtocolTypeRouter has ${configured}`
        throw type === 'http' || type === 'websocket'
          ? new RouteNotFoundError(message)
          : new UnknownProtocolError(message)
      }
      return Promise.resolve(app(scope, receive, send))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}
