/** The application that turns a WebSocket away before its handshake completes. */
import type { Receive, Scope, Send } from '../application.js'

/**
 * Waits for `websocket.connect` and answers `websocket.close` without accepting, which the server turns into an
 * HTTP 403 handshake response (Channels' `WebsocketDenier`); answers nothing if the first event is another (the
 * client already left). `OriginValidator` and `AuthMiddleware` run it for the connections they refuse.
 *
 * @example
 * ```ts
 * const app = defineMiddleware(async (scope, receive, send, inner) =>
 *   isBanned(scope) ? websocketDenier(scope, receive, send) : inner(scope, receive, send),
 * )
 * ```
 */
export async function websocketDenier(_scope: Scope, receive: Receive, send: Send): Promise<void> {
  const event = await receive()
  // The first event of a WebSocket is always `websocket.connect`; anything else (the client already left) needs
  // no answer.
  if (event.type === 'websocket.connect') await send({ type: 'websocket.close' })
}
