/**
 * Every coded error Switchyard throws. Each class carries a stable `code` (`SWY_…`) as a static and an own
 * instance property, so `err.code` survives logging and `instanceof` checks work. The README's error table is
 * kept in sync with this file by `test/unit/error-codes.test.ts`.
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
  constructor(
    readonly channel: string,
    readonly capacity: number,
    options?: ErrorOptions,
  ) {
    super(
      `Channel "${channel}" is full (capacity ${capacity}): its readers are behind; retry later, add readers, or raise ` +
        '`capacity` / `channelCapacity` for it',
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

/** A message encodes to more than `maxMessageBytes`. */
export class MessageTooLargeError extends RangeError {
  static readonly code = 'SWY_MESSAGE_TOO_LARGE'
  readonly code = MessageTooLargeError.code
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
    options?: ErrorOptions,
  ) {
    super(
      `Message is ${bytes} bytes encoded, over the ${maxBytes}-byte limit (\`maxMessageBytes\`); send an id and ` +
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

/** A short, payload-free description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'string') return value.length > 60 ? `a string of length ${value.length}` : JSON.stringify(value)
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object'
  return typeof value
}
