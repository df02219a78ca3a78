/** How the `switchyard` command reports a failure: one line for people, the stack only when asked for. */
import { inspect } from 'node:util'

/** What every command writes to; `verbose` is the global `--verbose` flag. */
export interface CommandIo {
  out: (text: string) => void
  err: (text: string) => void
  /** Print stack traces (and causes) under error lines. */
  readonly verbose?: boolean
}

/**
 * A failure the command has already explained: the message says what went wrong and what to do, in one line, so
 * it is printed as it is (exit code 1), without the stack. Not a coded error: nothing outside the CLI sees it.
 *
 * @example
 * ```ts
 * throw new CommandError('port 8000 on 127.0.0.1 is in use by another process; stop it, or pass --port', { cause })
 * ```
 */
export class CommandError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'CommandError'
  }
}

/**
 * Prints `switchyard <command>: <what went wrong>` on one line; with `--verbose`, the stack and causes under it.
 * A `CommandError` or a coded Switchyard error (`SWY_…`: its message already names the problem) prints its message;
 * anything else (a bug, most likely) its name and message, with a hint that `--verbose` shows where it came from.
 */
export function reportError(command: string | undefined, error: unknown, io: Pick<CommandIo, 'err' | 'verbose'>): void {
  const prefix = command === undefined ? 'switchyard' : `switchyard ${command}`
  io.err(`${prefix}: ${describeFailure(error, io.verbose === true)}\n`)
  if (io.verbose === true) io.err(`${inspect(error, { depth: 6 })}\n`)
}

function describeFailure(error: unknown, verbose: boolean): string {
  if (!(error instanceof Error)) return String(error)
  // Matched by shape, not instanceof: an --app module loaded as CommonJS has its own copy of the error classes.
  if (error instanceof CommandError || isSwitchyardCoded(error)) return error.message
  return `${error.name}: ${error.message}${verbose ? '' : ' (--verbose prints the stack)'}`
}

function isSwitchyardCoded(error: Error): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('SWY_')
}
