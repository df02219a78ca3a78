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
