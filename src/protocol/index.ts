export { HttpProtocolState } from './http-state.js'
export type { ProtocolState } from './protocol-state.js'
export {
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
  WebsocketProtocolState,
  type WebsocketProtocolStateOptions,
} from './websocket-state.js'
