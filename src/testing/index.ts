export { ApplicationCommunicator, CANCEL_GRACE_MS, type StopOptions } from './application-communicator.js'
export { CommunicatorTimeoutError } from './communicator-timeout-error.js'
export { HttpCommunicator, type HttpCommunicatorOptions, type HttpResponse } from './http-communicator.js'
export { receiveFromLayer, receiveNothingFromLayer, type TimeoutOptions } from './layer-receive.js'
export {
  httpScope,
  websocketScope,
  type HeaderInput,
  type TestScopeOptions,
  type WebsocketScopeOptions,
} from './test-scopes.js'
export {
  WebsocketCommunicator,
  type ClientFrame,
  type ConnectResult,
  type WebsocketCommunicatorOptions,
} from './websocket-communicator.js'
