/**
 * The showcase has no accounts: its APIs, sockets and pages trust whoever can reach them, which `npm start` limits to
 * this machine (it listens on 127.0.0.1). DNS rebinding gets around that: a page on `evil.example` rebound to
 * 127.0.0.1 would be same-origin with the showcase and could queue jobs, read webhook dead letters and replay them.
 * Its browser still sends `Host: evil.example`, so every request must name the server by a loopback name.
 */
import {
  defineMiddleware,
  isLoopbackHost,
  MISDIRECTED_REQUEST,
  websocketDenier,
  type Middleware,
  type Scope,
} from 'switchyard-channels'

/** Enough of a refused `Host` to recognise it in the log. */
const MAX_LOGGED_HOST = 200

/** What a refused request is told. */
export const FOREIGN_HOST_REFUSAL =
  'the showcase answers requests addressed to localhost, 127.0.0.1 (127.0.0.0/8) or [::1] only ' +
  '(DNS rebinding protection): open it by one of those names'

/**
 * Lets HTTP requests and WebSockets through only when their one `Host` header is a loopback name (`localhost`,
 * 127.0.0.0/8 or `[::1]`, any port): others get 421 with a JSON `{ error }`, and sockets a 403 handshake.
 *
 * @example
 * ```ts
 * ProtocolTypeRouter({ http: LoopbackHostsOnly(URLRouter(routes)), websocket: LoopbackHostsOnly(sockets) })
 * ```
 */
export const LoopbackHostsOnly: Middleware = defineMiddleware(async (scope, receive, send, inner) => {
  if (scope.type === 'channel' || isLoopbackHost(onlyHost(scope))) {
    await inner(scope, receive, send)
    return
  }
  scope.logger?.warn({ host: onlyHost(scope)?.slice(0, MAX_LOGGED_HOST) }, 'request for a foreign host refused')
  if (scope.type === 'websocket') {
    await websocketDenier(scope, receive, send)
    return
  }
  await send({
    type: 'http.response.start',
    status: MISDIRECTED_REQUEST,
    headers: [
      ['content-type', 'application/json; charset=utf-8'],
      ['cache-control', 'no-store'],
    ],
  })
  await send({ type: 'http.response.body', body: Buffer.from(JSON.stringify({ error: FOREIGN_HOST_REFUSAL })) })
})

/** The `Host` header when there is exactly one: with several, which one the client meant is anyone's guess. */
function onlyHost(scope: Exclude<Scope, { type: 'channel' }>): string | undefined {
  const hosts = scope.headers.filter(([name]) => name === 'host')
  return hosts.length === 1 ? hosts[0]?.[1] : undefined
}
