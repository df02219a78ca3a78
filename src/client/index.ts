/**
 * `switchyard-channels/client`: the browser (and Node) client for Switchyard's JSON WebSocket consumers. No dependencies;
 * serve it to pages without a bundler with `clientModuleSource()` (`src/client/browser-bundle.ts`).
 */
export { reconnectDelayMs } from './backoff.js'
export { shouldReconnect } from '../protocol/close-codes.js'
export { connect } from './connect.js'
export { ConnectionClosedError } from './connection-closed-error.js'
export type { MessagePosition, RecoveryMessage } from '../protocol/recovery-protocol.js'
export type {
  CloseInfo,
  Connection,
  ConnectionState,
  ConnectionStats,
  MessageOfType,
  OpenInfo,
  ServerMessage,
} from './connection.js'
export type { Listener } from './listeners.js'
export { type Clock, type ConnectOptions, DEFAULT_RECONNECT_OPTIONS, type ReconnectOptions } from './options.js'
export type { CloseEventLike, MessageEventLike, WebSocketConstructorLike, WebSocketLike } from './websocket-like.js'
