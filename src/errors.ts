import { describeValue } from './describe-value.js'
import {
  CLOSE_INVALID_PAYLOAD,
  CLOSE_TRY_AGAIN_LATER,
  CLOSE_UNSUPPORTED_DATA,
  type CloseCode,
} from './protocol/close-codes.js'

/**
 * Every coded error Switchyard throws. Each class carries a stable `code` (`SWY_…`) as a static and an own
 * instance property, so `err.code` survives logging and `instanceof` checks work. The error table in
 * `docs/reference/errors.md` is kept in sync with this file by `test/unit/error-codes.test.ts` (codes and classes)
 * and `test/docs/reference-errors.test.ts` (base classes and close codes).
 *
 * Errors that close a WebSocket also carry the close code they close it with, `closeCode` (static and own, as
 * `code`), from the table in `src/protocol/close-codes.ts`: the code that closes the socket reads it from the error.
 *
 * Control flow (StopConsumer, DenyConnection, NonRetryableError) lives with the consumers, not here.
 */

/** A channel or group name breaks Channels' naming rules. */
export class InvalidChannelNameError extends TypeError {
  static readonly code = 'SWY_INVALID_CHANNEL_NAME'
  readonly code = InvalidChannelNameError.code
  constructor(
    readonly kind: 'channel' | 'group',
    readonly channelName: unknown,
    rule: string,
    options?: ErrorOptions,
  ) {
    super(`${kind === 'channel' ? 'Channel' : 'Group'} name ${describeName(channelName)} is invalid: ${rule}`, options)
    this.name = 'InvalidChannelNameError'
  }
}

/** `send` to a channel that already holds `capacity` messages. `groupSend` never throws it. */
export class ChannelFullError extends Error {
  static readonly code = 'SWY_CHANNEL_FULL'
  readonly code = ChannelFullError.code
  /** `limitOption`: the layer option that set the limit applied, for the hint (default: the channel's own). */
  constructor(
    readonly channel: string,
    readonly capacity: number,
    options?: ErrorOptions & { readonly limitOption?: string },
  ) {
    super(
      `Channel "${channel}" is full (capacity ${capacity}): its readers are behind; retry later, add readers, or raise ` +
        (options?.limitOption === undefined ? '`capacity` / `channelCapacity` for it' : `\`${options.limitOption}\``),
      options,
    )
    this.name = 'ChannelFullError'
  }
}

/** A message is not a plain object with a string `type`, or uses a key reserved for the wire format. */
export class InvalidMessageError extends TypeError {
  static readonly code = 'SWY_INVALID_MESSAGE'
  readonly code = InvalidMessageError.code
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidMessageError'
  }
}

/** A message holds a value that does not survive JSON/msgpack (a Date, a class instance, a cycle, NaN…). */
export class MessageNotSerializableError extends TypeError {
  static readonly code = 'SWY_MESSAGE_NOT_SERIALIZABLE'
  readonly code = MessageNotSerializableError.code
  constructor(
    /** Where the bad value sits, e.g. `message.user.profile`. */
    readonly path: string,
    problem: string,
    advice: string,
    options?: ErrorOptions,
  ) {
    super(`Message field \`${path}\` ${problem}; ${advice}`, options)
    this.name = 'MessageNotSerializableError'
  }
}

/** What a size limit other than `maxMessageBytes` applies to, for MessageTooLargeError's text. */
const LIMITED_THING: Readonly<Record<string, string>> = {
  maxPresenceInfoBytes: 'Presence info',
  MAX_PROGRESS_BYTES: 'Task progress data',
}

/** A message encodes to more than `maxMessageBytes`. */
export class MessageTooLargeError extends RangeError {
  static readonly code = 'SWY_MESSAGE_TOO_LARGE'
  readonly code = MessageTooLargeError.code
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
    /** `limitOption`: the layer option that set the limit (default `maxMessageBytes`; presence info: its own). */
    options?: ErrorOptions & { readonly limitOption?: string },
  ) {
    super(
      `${LIMITED_THING[options?.limitOption ?? ''] ?? 'Message'} is ${bytes} bytes encoded, ` +
        `over the ${maxBytes}-byte limit (\`${options?.limitOption ?? 'maxMessageBytes'}\`); send an id and ` +
        'let the receiver load the data, or raise the limit',
      options,
    )
    this.name = 'MessageTooLargeError'
  }
}

/** A constructor option is missing, of the wrong type or out of range. */
export class InvalidOptionError extends TypeError {
  static readonly code = 'SWY_INVALID_OPTION'
  readonly code = InvalidOptionError.code
  constructor(
    readonly option: string,
    expected: string,
    received: unknown,
    options?: ErrorOptions,
  ) {
    super(`Expected \`${option}\` to be ${expected}, got ${describeValue(received)}`, options)
    this.name = 'InvalidOptionError'
  }
}

/** The layer was closed; it takes no more calls. */
export class LayerClosedError extends Error {
  static readonly code = 'SWY_LAYER_CLOSED'
  readonly code = LayerClosedError.code
  constructor(operation: string, options?: ErrorOptions) {
    super(`Cannot ${operation}: the channel layer is closed`, options)
    this.name = 'LayerClosedError'
  }
}

/** `receive` on a process-specific (`…!…`) channel that another layer instance created. */
export class ChannelNotLocalError extends Error {
  static readonly code = 'SWY_CHANNEL_NOT_LOCAL'
  readonly code = ChannelNotLocalError.code
  constructor(
    readonly channel: string,
    options?: ErrorOptions,
  ) {
    super(
      `Cannot receive on "${channel}": process-specific channels can only be received by the layer instance whose ` +
        'newChannel() created them; send to it instead',
      options,
    )
    this.name = 'ChannelNotLocalError'
  }
}

function describeName(name: unknown): string {
  if (typeof name !== 'string') return `of type ${describeValue(name)}`
  const shown = name.length > 120 ? `${name.slice(0, 117)}...` : name
  return `"${shown}"`
}

/** A class whose instances carry one fixed code; keeps the many small protocol errors to one line each. */
function codedError<C extends string>(code: C, name: string, base: ErrorConstructor = Error) {
  const Coded = class extends base {
    static readonly code: C = code
    readonly code: C = code
    constructor(message: string, options?: ErrorOptions) {
      super(message, options)
      this.name = name
    }
  }
  Object.defineProperty(Coded, 'name', { value: name })
  return Coded
}

/** A coded error that closes a WebSocket, with `closeCode` beside `code` (ws ties its errors to close codes alike). */
function closingError<C extends string, K extends CloseCode>(code: C, name: string, closeCode: K) {
  const Closing = class extends codedError(code, name) {
    static readonly closeCode: K = closeCode
    readonly closeCode: K = closeCode
  }
  Object.defineProperty(Closing, 'name', { value: name })
  return Closing
}

/** No route matched the path (HTTP 404, WebSocket handshake rejected) or the channel name. */
export class RouteNotFoundError extends codedError('SWY_ROUTE_NOT_FOUND', 'RouteNotFoundError') {}
/** `ProtocolTypeRouter` has no application for the scope's type. */
export class UnknownProtocolError extends codedError('SWY_UNKNOWN_PROTOCOL', 'UnknownProtocolError') {}
/** A message type with no handler on the consumer (closes a WebSocket with 1011). */
export class UnknownMessageTypeError extends codedError('SWY_UNKNOWN_MESSAGE_TYPE', 'UnknownMessageTypeError') {}
/** A message type that can never name a handler: no dot, or a leading underscore once dots become underscores. */
export class InvalidMessageTypeError extends codedError(
  'SWY_INVALID_MESSAGE_TYPE',
  'InvalidMessageTypeError',
  TypeError,
) {}
/** An event that breaks the protocol: a second accept, an HTTP event on a socket, a send with neither text nor bytes. */
export class InvalidEventError extends codedError('SWY_INVALID_EVENT', 'InvalidEventError', TypeError) {}
/** `websocket.send` before `websocket.accept`. */
export class NotAcceptedError extends codedError('SWY_NOT_ACCEPTED', 'NotAcceptedError') {}
/** Sending to a connection that is already closed. */
export class ConnectionClosedError extends codedError('SWY_CONNECTION_CLOSED', 'ConnectionClosedError') {}
/** A text frame that is not JSON (or not a JSON object) for a `JsonWebsocketConsumer` (closes with 1007). */
export class InvalidJsonError extends closingError('SWY_INVALID_JSON', 'InvalidJsonError', CLOSE_INVALID_PAYLOAD) {}
/** A frame kind the consumer does not take, e.g. binary to a `JsonWebsocketConsumer` (closes with 1003). */
export class UnsupportedFrameError extends closingError(
  'SWY_UNSUPPORTED_FRAME',
  'UnsupportedFrameError',
  CLOSE_UNSUPPORTED_DATA,
) {}
/** A client that does not read: its outbound buffer passed the cap (closes with 1013; counted). */
export class SlowClientError extends closingError('SWY_SLOW_CLIENT', 'SlowClientError', CLOSE_TRY_AGAIN_LATER) {}
/** The application neither accepted nor rejected a WebSocket handshake in time (rejected). */
export class HandshakeTimeoutError extends codedError('SWY_HANDSHAKE_TIMEOUT', 'HandshakeTimeoutError') {}
/** An HTTP request body over the consumer's limit (HTTP 413). */
export class BodyTooLargeError extends codedError('SWY_BODY_TOO_LARGE', 'BodyTooLargeError', RangeError) {}
/** The application was cancelled (by a communicator timeout, or a server shutting down) while it waited. */
export class ApplicationCancelledError extends codedError('SWY_APPLICATION_CANCELLED', 'ApplicationCancelledError') {}
/** A consumer used `channelLayer` or `channelName` but its server, worker or communicator was given no layer. */
export class NoChannelLayerError extends codedError('SWY_NO_CHANNEL_LAYER', 'NoChannelLayerError') {}
/**
 * Redis could not be reached (or stayed unreachable through the retry window), or, with `waitForReplicas`, too few
 * replicas acknowledged a write in time; names the host, never a password.
 */
export class RedisUnavailableError extends codedError('SWY_REDIS_UNAVAILABLE', 'RedisUnavailableError') {}
/** A payload read from Redis could not be decrypted or decoded (wrong keys, expired token, corrupt); counted and dropped. */
export class MessageDecodeError extends codedError('SWY_MESSAGE_DECODE', 'MessageDecodeError') {}
/** A task attempt ran longer than its consumer's `timeoutMs`; it counts as a failure (and is retried). */
export class TaskTimeoutError extends codedError('SWY_TASK_TIMEOUT', 'TaskTimeoutError') {}
/** `layer.tasks.cancel(taskId)` cancelled a running task: `ctx.signal` aborts with it; the task is not retried. */
export class TaskCancelledError extends codedError('SWY_TASK_CANCELLED', 'TaskCancelledError') {}
/** A RetryingConsumer was given a scope or layer it cannot work with (not a worker channel, no task store). */
export class TaskSetupError extends codedError('SWY_TASK_SETUP', 'TaskSetupError') {}
/** An application module could not be loaded or does not export an application (CLI `--app`). */
export class AppLoadError extends codedError('SWY_APP_LOAD', 'AppLoadError') {}
/** `groupHistory` (or `recover`) on a group that matches no pattern of the layer option `history`. */
export class HistoryNotEnabledError extends codedError('SWY_HISTORY_NOT_ENABLED', 'HistoryNotEnabledError') {}
/** `presence.join`, `leave` or `list` on a group that matches no pattern of the layer option `presence`. */
export class PresenceNotEnabledError extends codedError('SWY_PRESENCE_NOT_ENABLED', 'PresenceNotEnabledError') {}
/** `presence.join` on a group whose presence list already holds `maxPresence` members. */
export class PresenceFullError extends codedError('SWY_PRESENCE_FULL', 'PresenceFullError', RangeError) {}

/**
 * Thrown by a `RetryingConsumer` handler that a remote service told to slow down: the task goes back to its queue
 * after `retryAfterMs` without counting an attempt (never dead-lettered for it). Only that task waits: the
 * channel's `static rateLimit` is not changed (docs/topics/background-tasks.md, "Rate limits"). `retryAfterMs`
 * must be an integer from 0 to 86 400 000 (a day); any other value makes the attempt an ordinary failure (counted,
 * retried with backoff), so a bad `Retry-After` header cannot park a task forever.
 *
 * @example
 * ```ts
 * if (response.status === 429) throw new RateLimitedError(Number(response.headers.get('retry-after')) * 1000)
 * ```
 */
export class RateLimitedError extends Error {
  static readonly code = 'SWY_RATE_LIMITED'
  readonly code = RateLimitedError.code
  constructor(
    readonly retryAfterMs: number,
    options?: ErrorOptions,
  ) {
    super(`Rate limited: asked to run the task again in ${String(retryAfterMs)} ms`, options)
    this.name = 'RateLimitedError'
  }
}
