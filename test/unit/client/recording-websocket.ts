import WebSocket from 'ws'

import type { WebSocketConstructorLike } from '../../../src/client/index.js'

/**
 * The `ws` constructor, passing each socket the client creates (each connection attempt) to `onCreate` as it is
 * created: a test counts attempts synchronously, so "no further attempt" needs no waiting.
 */
export function recordingWebSocket(onCreate: (socket: WebSocket) => void): WebSocketConstructorLike {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
      super(url, protocols, options)
      onCreate(this)
    }
  }
}
