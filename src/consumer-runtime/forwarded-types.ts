import { InvalidOptionError } from '../errors.js'
import { declaredMethod, handlerNameFor } from './dispatch.js'
import { isClientEventType } from './run-loop-hooks.js'

const NONE: ReadonlySet<string> = new Set()

/** What `forwardedTypes` reads of a consumer class. */
interface ForwardingClass {
  readonly forward: readonly string[]
  readonly prototype: object
}

/** Per consumer class, its `static forward` checked and made a set: built when the class first connects. */
const FORWARDED = new WeakMap<object, ReadonlySet<string>>()

/** The last class asked about, with its set: member after member of one class forwards a group message. */
let lastClass: object | undefined
let lastTypes: ReadonlySet<string> = NONE

/**
 * The layer message types a consumer class forwards as they are (`static forward`), checked once per class:
 * namespaced types a handler could take (`chat.message`), never a client event type (`websocket.*`, `http.*`),
 * and none the class also handles with a method, so which of the two runs is never a question. Throws
 * `InvalidOptionError` otherwise.
 */
export function forwardedTypes(consumerClass: ForwardingClass): ReadonlySet<string> {
  if (consumerClass === lastClass) return lastTypes
  let types = FORWARDED.get(consumerClass)
  if (types === undefined) {
    types = checkedTypes(consumerClass)
    FORWARDED.set(consumerClass, types)
  }
  lastClass = consumerClass
  lastTypes = types
  return types
}

function checkedTypes(consumerClass: ForwardingClass): ReadonlySet<string> {
  const given: unknown = consumerClass.forward
  const option = 'static forward'
  if (!Array.isArray(given)) {
    throw new InvalidOptionError(option, "an array of message types, e.g. ['chat.message']", given)
  }
  if (given.length === 0) return NONE
  const types = new Set<string>()
  for (const type of given as unknown[]) {
    if (typeof type !== 'string' || isClientEventType(type)) {
      throw new InvalidOptionError(option, 'layer message types (not websocket.* or http.*)', type)
    }
    let name: string
    try {
      name = handlerNameFor(type)
    } catch (cause) {
      throw new InvalidOptionError(option, "namespaced message types, e.g. 'chat.message'", type, { cause })
    }
    if (declaredMethod(consumerClass.prototype, name) !== undefined) {
      throw new InvalidOptionError(option, `types without a handler method (\`${name}\` handles ${type})`, type)
    }
    types.add(type)
  }
  return types
}
