/** `ChannelNameRouter`: which application serves which background channel, for workers. */
import type { Application, Receive, Scope, Send } from '../application.js'
import { InvalidOptionError, RouteNotFoundError, UnknownProtocolError } from '../errors.js'
import { describeKey } from './describe-key.js'
import { assertChannelName } from '../layers/names.js'

/**
 * Dispatches `channel` scopes (one per message a worker takes off a named channel) on `scope.channel`. Channel
 * names are validated when the router is built. A scope of another type rejects with `UnknownProtocolError`; a
 * channel with no application rejects with `RouteNotFoundError`.
 *
 * @example
 * ```ts
 * const app = ProtocolTypeRouter({
 *   channel: ChannelNameRouter({
 *     thumbnails: ThumbnailConsumer.asApp(),
 *     'email.send': EmailConsumer.asApp(),
 *   }),
 * })
 * ```
 */
export function ChannelNameRouter(mapping: Readonly<Record<string, Application>>): Application {
  const given: unknown = mapping
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionError('mapping', 'an object such as { thumbnails: app }', given)
  }
  // A Map, not the object: a channel called "constructor" must not find Object.prototype's.
  const applications = new Map<string, Application>()
  for (const [channel, app] of Object.entries(given) as [string, unknown][]) {
    assertChannelName(channel)
    if (typeof app !== 'function') throw new InvalidOptionError(channel, 'an application function', app)
    applications.set(channel, app as Application)
  }
  const configured = [...applications.keys()].map((name) => `"${name}"`).join(', ') || 'none'

  return async (scope: Scope, receive: Receive, send: Send): Promise<void> => {
    if (scope.type !== 'channel') {
      throw new UnknownProtocolError(
        `ChannelNameRouter routes "channel" scopes (background workers), got scope type ${describeKey(scope.type)}; ` +
          'put it under ProtocolTypeRouter({ channel: ... })',
      )
    }
    const channel: unknown = scope.channel
    const app = typeof channel === 'string' ? applications.get(channel) : undefined
    if (app === undefined) {
      throw new RouteNotFoundError(
        `No application configured for channel ${describeKey(channel)}; ChannelNameRouter has ${configured}`,
      )
    }
    await app(scope, receive, send)
  }
}
