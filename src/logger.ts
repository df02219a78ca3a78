import { pino, type Logger } from 'pino'

export type { Logger } from 'pino'

let rootLogger: Logger | undefined

/**
 * The logger Switchyard uses when none is given: pino to stderr, level from `SWITCHYARD_LOG_LEVEL` (default
 * `info`). Created on first use so importing the package has no side effects.
 */
export function defaultLogger(): Logger {
  rootLogger ??= pino({ name: 'switchyard', level: process.env.SWITCHYARD_LOG_LEVEL ?? 'info' }, pino.destination(2))
  return rootLogger
}

const logged = new WeakSet<object>()

/** Records that an error was already logged with its context, so an outer layer does not log it twice. */
export function markLogged(error: unknown): void {
  if (typeof error === 'object' && error !== null) logged.add(error)
}

/** True if `markLogged` saw this error. */
export function wasLogged(error: unknown): boolean {
  return typeof error === 'object' && error !== null && logged.has(error)
}

/** What a lazy child logger holds until its first use. */
interface LazyChild {
  readonly parent: Logger
  readonly bindings: Record<string, unknown>
  logger: Logger | undefined
}

const LAZY = Symbol('switchyard.lazyChild')

/** The real logger behind `log`, creating it (and its lazy parents) on first use. */
function realLogger(log: Logger): Logger {
  const lazy = (log as unknown as { readonly [LAZY]?: LazyChild })[LAZY]
  return lazy === undefined ? log : materialize(lazy)
}

function materialize(lazy: LazyChild): Logger {
  lazy.logger ??= realLogger(lazy.parent).child(lazy.bindings)
  return lazy.logger
}

/** Every lazy child shares this handler: any use but `child()` goes to the real child, created then. */
const lazyHandler: ProxyHandler<LazyChild> = {
  get(target, property) {
    if (property === LAZY) return target
    // Always ours, even once created: a pino child of the proxy would inherit from it and read pino's getters
    // (such as `level`) with the wrong receiver; ours makes real children of the real logger.
    if (property === 'child') return lazyChildOf
    const logger = materialize(target)
    return Reflect.get(logger, property, logger) as unknown
  },
  set(target, property, value) {
    const logger = materialize(target)
    return Reflect.set(logger, property, value, logger)
  },
  has(target, property) {
    return property === LAZY || Reflect.has(materialize(target), property)
  },
  getPrototypeOf(target) {
    return Reflect.getPrototypeOf(materialize(target))
  },
}

/** `child()` on a lazy child that has not been used: another lazy child, of it. */
function lazyChildOf(this: Logger, bindings: Record<string, unknown>, options?: unknown): Logger {
  return options === undefined ? lazyChild(this, bindings) : realLogger(this).child(bindings, options as never)
}

/**
 * `parent.child(bindings)`, created on first use. A pino child costs about half a KiB (its own prototype map, a
 * bindings string), and the server makes two for every connection, most of which never log; a lazy one costs a
 * proxy and the bindings object. Once used it behaves as the real child (pino's methods run on it).
 *
 * @example
 * ```ts
 * const log = lazyChild(root, { connId })
 * log.child({ consumer: 'Chat' }) // still nothing created
 * log.info('hello') // creates root.child({ connId }) and logs through it
 * ```
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new Proxy<LazyChild>({ parent, bindings, logger: undefined }, lazyHandler) as unknown as Logger
}
