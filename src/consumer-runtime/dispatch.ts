import { InvalidMessageTypeError, UnknownMessageTypeError } from '../errors.js'

const HANDLER_NAME = /^[A-Za-z0-9_]+$/

/**
 * Channels' rule, made safe by construction: `chat.message` names the method `chat_message`. A type must contain
 * a dot, so a handler name always has an underscore and can never be `constructor`, `toString`, `accept`, `send`
 * or any other API method; a leading underscore (types starting with `_` or `.`) is rejected.
 */
export function handlerNameFor(type: string): string {
  // The type annotation is what callers promise; a message from the wire (Django, a hand-written send) may break it.
  const value: unknown = type
  if (typeof value !== 'string' || value === '') {
    throw new InvalidMessageTypeError(
      `Message has no type: its \`type\` is ${value === '' ? 'empty' : typeof value}; send a namespaced string ` +
        "like 'email.send'",
    )
  }
  const name = type.replaceAll('.', '_')
  if (name.startsWith('_')) {
    throw new InvalidMessageTypeError(`Malformed type in message (leading underscore): ${JSON.stringify(type)}`)
  }
  if (!type.includes('.')) {
    throw new InvalidMessageTypeError(
      `Malformed type in message (no dot): ${JSON.stringify(type)}; use a namespaced type like 'chat.message'`,
    )
  }
  if (!HANDLER_NAME.test(name)) {
    throw new InvalidMessageTypeError(
      `Malformed type in message: ${JSON.stringify(type)} may contain only letters, digits, underscores and dots`,
    )
  }
  return name
}

export type Handler = (this: object, message: never) => unknown

/**
 * Finds the handler for `type` among the methods declared on the consumer's own classes: the prototype chain
 * below `Object.prototype`, own data properties only (no getters, no instance fields, nothing inherited from
 * Object). Throws a coded error for unknown or malformed types.
 */
export function findHandler(consumer: object, type: string): Handler {
  // Per class, the handlers found so far: the lookup below runs once per (class, type), not once per message.
  const proto: unknown = Object.getPrototypeOf(consumer)
  // A group message reaches member after member of one class: the last answer first, without the two hash lookups.
  if (proto === last.proto && type === last.type && last.handler !== undefined) return last.handler
  const cache = typeof proto === 'object' && proto !== null ? cacheFor(proto) : undefined
  let handler = cache?.get(type)
  if (handler === undefined) {
    handler = lookUpHandler(consumer, type)
    cache?.set(type, handler)
  }
  if (cache !== undefined) {
    last.proto = proto
    last.type = type
    last.handler = handler
  }
  return handler
}

/** The last (class, type) found, held strongly: one class's prototype and one method, whatever the traffic. */
const last: { proto: unknown; type: string | undefined; handler: Handler | undefined } = {
  proto: undefined,
  type: undefined,
  handler: undefined,
}

/**
 * Found handlers per prototype. Methods are read when a class first handles a type; patching a prototype's
 * handler afterwards is not seen (classes are not meant to change at run time). Unknown types are not cached:
 * they throw every time.
 */
const HANDLERS = new WeakMap<object, Map<string, Handler>>()

function cacheFor(proto: object): Map<string, Handler> {
  let cache = HANDLERS.get(proto)
  if (cache === undefined) {
    cache = new Map()
    HANDLERS.set(proto, cache)
  }
  return cache
}

function lookUpHandler(consumer: object, type: string): Handler {
  const name = handlerNameFor(type)
  const handler = declaredMethod(Object.getPrototypeOf(consumer), name)
  if (handler !== undefined) return handler
  throw new UnknownMessageTypeError(
    `No handler for message type ${JSON.stringify(type)}: declare a method \`${name}(message)\` on ${consumerName(consumer)}`,
  )
}

/**
 * The method `name` declared on a consumer's own classes, from `proto` up to (not including) `Object.prototype`: an
 * own data property holding a function; undefined if the first class that has `name` holds anything else there.
 */
export function declaredMethod(proto: unknown, name: string): Handler | undefined {
  for (let p = proto; isUserPrototype(p); p = Object.getPrototypeOf(p)) {
    const descriptor = Object.getOwnPropertyDescriptor(p, name)
    if (descriptor === undefined) continue
    return typeof descriptor.value === 'function' ? (descriptor.value as Handler) : undefined
  }
  return undefined
}

function isUserPrototype(proto: unknown): proto is object {
  return typeof proto === 'object' && proto !== null && proto !== Object.prototype
}

export function consumerName(consumer: object): string {
  const ctor: unknown = (consumer as { constructor?: unknown }).constructor
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'the consumer'
}

type Underscored<S extends string> = S extends `${infer Head}.${infer Tail}` ? `${Head}_${Underscored<Tail>}` : S

/** The method name a message type dispatches to: `HandlerName<'chat.message'>` is `'chat_message'`. */
export type HandlerName<T extends string> = Underscored<T>

/**
 * The handlers a message union requires, for `implements`: each type's method, taking that type's message.
 *
 * @example
 * ```ts
 * type RoomEvent = { type: 'chat.message'; text: string } | { type: 'user.joined'; userId: number }
 * class Room extends JsonWebsocketConsumer implements Handlers<RoomEvent> {
 *   async chat_message(event: Extract<RoomEvent, { type: 'chat.message' }>) { await this.sendJson(event) }
 *   async user_joined(event: Extract<RoomEvent, { type: 'user.joined' }>) { ... }
 * }
 * ```
 */
export type Handlers<M extends { readonly type: string }> = {
  [E in M as HandlerName<E['type']>]: (message: E) => Promise<void> | void
}
