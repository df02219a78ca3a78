/**
 * How every `switchyard` command reads its arguments: node:util parseArgs with the options they all share, option
 * values checked with messages that name the flag, and a usage error reported the same way by each (exit 2).
 */
import { parseArgs } from 'node:util'

import { InvalidChannelNameError } from '../errors.js'
import { assertChannelName } from '../layers/names.js'
import { CommandError, type CommandIo } from './command-error.js'

/** What asks for help, as the first argument of `switchyard` or of `dead-letters`. */
export const HELP_WORDS: ReadonlySet<string> = new Set(['help', '--help', '-h'])

/** Every command takes these: the `--app` module, the Redis key prefix, and its own `--help`. */
export const SHARED_OPTIONS = {
  app: { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** `--json`, for the commands that can print JSON instead of tables. */
export const JSON_OPTION = { json: { type: 'boolean' } } as const

type OptionSpec = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>

/** Each option's value: a string option's text, a boolean option's true; undefined when not given. */
export type OptionValues<T extends OptionSpec> = {
  readonly [K in keyof T]?: T[K]['type'] extends 'string' ? string : boolean
}

/**
 * A command's arguments are wrong: printed as `switchyard <command>: <message>`, then the command's usage unless
 * `withUsage` is false (the usage would bury a message about one value), and the command exits 2.
 */
export class UsageError extends CommandError {
  readonly withUsage: boolean

  constructor(message: string, options?: ErrorOptions & { readonly withUsage?: boolean }) {
    super(message, options)
    this.name = 'UsageError'
    this.withUsage = options?.withUsage ?? true
  }
}

/**
 * The arguments parsed strictly against `SHARED_OPTIONS` and the command's own `options`; parseArgs' complaint (an
 * unknown option, a missing value, a positional where none is taken) becomes a `UsageError`.
 */
export function parseCommandArgs<T extends OptionSpec>(
  args: readonly string[],
  options: T,
  { allowPositionals = true }: { readonly allowPositionals?: boolean } = {},
): { values: OptionValues<typeof SHARED_OPTIONS & T>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...SHARED_OPTIONS, ...options },
      strict: true,
      allowPositionals,
    })
    return { values, positionals }
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error })
  }
}

/**
 * The shared start of a command: `parse` its arguments, print its usage on stdout for `'help'` (exit 0) or with
 * the problem on stderr for a `UsageError` (exit 2); else `run` the request and resolve its exit code.
 */
export async function runParsed<R>(
  command: { readonly name: string; readonly usage: string },
  args: readonly string[],
  io: CommandIo,
  parse: (args: readonly string[]) => R | 'help',
  run: (request: R) => Promise<number>,
): Promise<number> {
  let request: R | 'help'
  try {
    request = parse(args)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    io.err(`switchyard ${command.name}: ${error.message}\n${error.withUsage ? `\n${command.usage}` : ''}`)
    return 2
  }
  if (request === 'help') {
    io.out(command.usage)
    return 0
  }
  return run(request)
}

/**
 * The whole number an option's `text` spells, from `min` to `max`; undefined when the option is absent. Anything
 * else is a `UsageError`: `<flag> must be <expected>, got "<text>"`.
 */
export function integerOption(
  flag: string,
  text: string | undefined,
  rule: { readonly min: number; readonly max?: number; readonly expected: string; readonly withUsage?: boolean },
): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  // A digits-only pattern first: Number() would take '', ' 1', '1e3' and '0x10'.
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < rule.min || value > (rule.max ?? Infinity)) {
    throw new UsageError(`${flag} must be ${rule.expected}, got ${JSON.stringify(text)}`, {
      withUsage: rule.withUsage ?? true,
    })
  }
  return value
}

/** `integerOption` for counts and limits: at least 1. */
export function positiveIntegerOption(flag: string, text: string | undefined): number | undefined {
  return integerOption(flag, text, { min: 1, expected: 'a positive integer' })
}

/** Checks a channel named on the command line; an invalid name is a `UsageError` with the layer's message. */
export function checkChannelArgument(channel: string): void {
  try {
    assertChannelName(channel)
  } catch (error) {
    if (error instanceof InvalidChannelNameError) throw new UsageError(error.message, { cause: error })
    throw error
  }
}
