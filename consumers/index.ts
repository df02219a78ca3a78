export { AsyncConsumer, type ConsumerConstructor, type ConsumerMessage } from './async-consumer.js'
export { BackgroundConsumer, type BackgroundConsumerStats } from './background-consumer.js'
export { AcceptConnection, DenyConnection, NonRetryableError, StopConsumer } from '../src/control.js'
export { handlerNameFor, type HandlerName, type Handlers } from '../src/consumer-runtime/dispatch.js'
export { HttpConsumer, formatServerSentEvent, type ResponseOptions, type ServerSentEvent } from './http-consumer.js'
export { CLOSE_INVALID_PAYLOAD, CLOSE_UNSUPPORTED_DATA, JsonWebsocketConsumer } from './json-websocket-consumer.js'
export {
  WebsocketConsumer,
  type AcceptOptions,
  type JoinGroupOptions,
  type JoinGroupResult,
  type SendOptions,
  type WebsocketData,
} from './websocket-consumer.js'
export { retryDelayMs } from '../src/worker/backoff.js'
export { DEFAULT_RETRY, type RetryOptions, type TaskContext } from '../src/worker/retry-options.js'
export type { RateLimit } from '../src/tasks/rate-limit.js'
export { DEFAULT_SHUTDOWN_GRACE_MS, RetryingConsumer } from './retrying-consumer.js'
export type { FailureInfo, TaskRunnerStats } from '../src/worker/task-runner.js'
