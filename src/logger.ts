import { createRequire } from 'node:module'

import { pino, type DestinationStream, type Logger } from 'pino'

import { InvalidOptionError } from './errors.js'

export type { Logger } from 'pino'

/** `json`: one JSON object per line, for machines; `pretty`: pino-pretty's coloured lines, for people. */
export type LogFormat = 'json' | 'pretty'

let rootLogger: Logger | undefined

/**
 * The logger Switchyard uses when none is given: pino to stderr, level from `SWITCHYARD_LOG_LEVEL` (default
 * `info`), human-readable on a terminal and JSON otherwise (see `logFormat`). Created on first use so importing the
 * package has no side effects.
 */
export function defaultLogger(): Logger {
  rootLogger ??= createLogger({
    level: process.env.SWITCHYARD_LOG_LEVEL ?? 'info',
    format: logFormat(process.env, process.stderr.isTTY),
  })
  return rootLogger
}

/**
 * How `defaultLogger` writes: `SWITCHYARD_LOG_FORMAT` (`json` or `pretty`) when set, else `pretty` when stderr is a
 * terminal and `json` when it is a file, a pipe or a log collector. The override is for a terminal whose output is
 * still collected (`docker run -t`).
 */
export function logFormat(env: NodeJS.ProcessEnv, stderrIsTTY: boolean | undefined): LogFormat {
  const chosen = env.SWITCHYARD_LOG_FORMAT
  if (chosen === undefined || chosen === '') return stderrIsTTY === true ? 'pretty' : 'json'
  if (chosen !== 'json' && chosen !== 'pretty') {
    throw new InvalidOptionError('SWITCHYARD_LOG_FORMAT (environment)', "'json' or 'pretty'", chosen)
  }
  return chosen
}

/** What `createLogger` builds. */
export interface CreateLoggerOptions {
  /** pino's level name. */
  readonly level: string
  readonly format: LogFormat
  /**
   * Where lines go.
   * @defaultValue stderr, written synchronously
   */
  readonly destination?: DestinationStream
  /**
   * Colours in `pretty` lines.
   * @defaultValue true unless `NO_COLOR` is set or `TERM` is `dumb`
   */
  readonly colorize?: boolean
}

/**
 * A pino logger named `switchyard`, writing JSON lines or pino-pretty's lines. Pretty lines are formatted in this
 * thread with pino-pretty's `prettyFactory` rather than through a transport's worker thread: writes stay
 * synchronous, so a command that ends with `process.exit()` loses no line, and no thread is started per process.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'debug', format: process.stderr.isTTY ? 'pretty' : 'json' })
 * log.info({ channel: 'email.send' }, 'worker serving channel')
 * ```
 */
export function createLogger({ level, format, destination, colorize }: CreateLoggerOptions): Logger {
  const out = destination ?? pino.destination({ dest: 2, sync: true })
  const options = { name: 'switchyard', level }
  if (format === 'json') return pino(options, out)
  const pretty = loadPrettyFactory()({
    colorize: colorize ?? (process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb'),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // One line per entry, as the JSON format has: a terminal stays readable under a burst of logs.
    singleLine: true,
  })
  return pino(options, {
    write: (line: string) => {
      out.write(pretty(line))
    },
  })
}

/** pino-pretty is loaded only when a logger is pretty: a process logging JSON never pays for it. */
function loadPrettyFactory(): typeof import('pino-pretty').prettyFactory {
  const require = createRequire(import.meta.url)
  return (require('pino-pretty') as typeof import('pino-pretty')).prettyFactory
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
