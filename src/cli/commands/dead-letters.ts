import type { ChannelLayer } from '../../layers/channel-layer.js'
import { hasTaskStore, type DeadLetter, type TaskStore } from '../../tasks/task-store.js'
import {
  checkChannelArgument,
  HELP_WORDS,
  JSON_OPTION,
  parseCommandArgs,
  positiveIntegerOption,
  runParsed,
  UsageError,
} from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import { formatDeadLetter, formatDeadLetterTable, summarize, toJson } from '../dead-letter-format.js'
import { parseDurationMs } from '../duration.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'
import { plural } from '../table.js'

/** The command's output streams; injectable for tests. */
export type DeadLettersIo = CommandIo

/** What the command uses from the outside world; each defaults to the real thing. Tests replace them. */
export type DeadLettersDeps = LayerCommandDeps

/** `list` shows this many dead letters per channel unless `--limit` says otherwise. */
export const DEFAULT_LIST_LIMIT = 50

export const DEAD_LETTERS_USAGE = `Usage: switchyard dead-letters <command> [options]

Commands:
  list [channel] [--limit N] [--json]      Dead letters, newest first (every channel when none is named)
  show <channel> <id> [--json]             One dead letter in full, with its message
  replay <channel> [id...] [--all]         Put dead letters back on their channel as fresh tasks
  purge <channel> [--older-than 7d] [--yes]
                                           Delete dead letters (older than 30s, 15m, 2h, 7d, ...; all needs --yes)

Options for every command:
  --app     A module whose \`layer\` export is the channel layer to inspect (else the one below)
  --prefix  Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)

The layer is the module's \`layer\` export, else the Redis layer on $REDIS_URL, else a new in-memory layer (which
has no dead letters). Listings never print message payloads; \`show\` does.
`

/** What the command says when it falls back to a new in-memory layer. */
const IN_MEMORY_NOTE = 'which has no dead letters; set REDIS_URL or pass --app with a `layer` export'

type Request =
  | { readonly kind: 'list'; readonly channel?: string; readonly limit: number; readonly json: boolean }
  | { readonly kind: 'show'; readonly channel: string; readonly id: string; readonly json: boolean }
  | { readonly kind: 'replay'; readonly channel: string; readonly ids: readonly string[] | undefined }
  | { readonly kind: 'purge'; readonly channel: string; readonly olderThanMs: number | undefined }

interface Parsed {
  readonly request: Request
  readonly app: string | undefined
  readonly prefix: string | undefined
}

/**
 * `switchyard dead-letters list | show | replay | purge`: inspects and manages the dead letters of the layer's task
 * store. Resolves 0 on success, 2 on bad arguments, 1 when the layer cannot be found or has no task store, a dead
 * letter is not found, or some ids given to `replay` were not replayed. The layer is closed before it resolves.
 *
 * @example
 * ```sh
 * REDIS_URL=redis://localhost:6379 switchyard dead-letters list email.send
 * switchyard dead-letters replay email.send --all
 * switchyard dead-letters purge email.send --older-than 7d
 * ```
 */
export async function deadLettersCommand(
  args: readonly string[],
  io: DeadLettersIo,
  deps: Partial<DeadLettersDeps> = {},
): Promise<number> {
  return runParsed({ name: 'dead-letters', usage: DEAD_LETTERS_USAGE }, args, io, parseDeadLettersArgs, (parsed) =>
    withCommandLayer('dead-letters', parsed, io, deps, IN_MEMORY_NOTE, (layer) =>
      runRequest(parsed.request, layer, io),
    ),
  )
}

async function runRequest(request: Request, layer: ChannelLayer, io: DeadLettersIo): Promise<number> {
  if (!hasTaskStore(layer)) {
    io.err(
      'switchyard dead-letters: the channel layer has no task store (`tasks`), so it keeps no dead letters; use ' +
        'a layer that runs RetryingConsumers (the in-memory or Redis layer)\n',
    )
    return 1
  }
  const { tasks } = layer
  switch (request.kind) {
    case 'list':
      return list(request, tasks, io)
    case 'show':
      return show(request, tasks, io)
    case 'replay':
      return replay(request, tasks, io)
    case 'purge': {
      const options = request.olderThanMs === undefined ? {} : { olderThanMs: request.olderThanMs }
      const purged = await tasks.purgeDeadLetters(request.channel, options)
      io.out(`Purged ${plural(purged, 'dead letter')} from ${request.channel}\n`)
      return 0
    }
  }
}

async function list(request: Extract<Request, { kind: 'list' }>, tasks: TaskStore, io: DeadLettersIo) {
  const channels = request.channel === undefined ? (await tasks.deadLetterChannels()).sort() : [request.channel]
  const letters: DeadLetter[] = []
  for (const channel of channels) letters.push(...(await tasks.listDeadLetters(channel, { limit: request.limit })))
  if (request.json) {
    io.out(`${toJson(letters.map(summarize))}\n`)
  } else if (letters.length === 0) {
    io.out(request.channel === undefined ? 'No dead letters\n' : `No dead letters on ${request.channel}\n`)
  } else {
    io.out(formatDeadLetterTable(letters, { withChannel: request.channel === undefined }))
  }
  return 0
}

async function show(request: Extract<Request, { kind: 'show' }>, tasks: TaskStore, io: DeadLettersIo) {
  const letter = await tasks.getDeadLetter(request.channel, request.id)
  if (letter === undefined) {
    io.err(`switchyard dead-letters: no dead letter ${JSON.stringify(request.id)} on ${request.channel}\n`)
    return 1
  }
  io.out(request.json ? `${toJson(letter)}\n` : formatDeadLetter(letter))
  return 0
}

async function replay(request: Extract<Request, { kind: 'replay' }>, tasks: TaskStore, io: DeadLettersIo) {
  const replayed = await tasks.replayDeadLetters(request.channel, request.ids)
  io.out(`Replayed ${plural(replayed, 'dead letter')} on ${request.channel}\n`)
  if (request.ids !== undefined && replayed < request.ids.length) {
    const missing = request.ids.length - replayed
    io.err(
      `switchyard dead-letters: ${plural(missing, 'id')} of ${request.ids.length} matched no dead letter on ` +
        `${request.channel} (already replayed or purged?)\n`,
    )
    return 1
  }
  return 0
}

/** Parses the arguments; a `UsageError` for anything wrong (exit 2). */
export function parseDeadLettersArgs(args: readonly string[]): Parsed | 'help' {
  const [command, ...rest] = args
  if (command !== undefined && HELP_WORDS.has(command)) return 'help'
  if (command === undefined) throw new UsageError('name a command: list, show, replay or purge')
  switch (command) {
    case 'list':
      return parseList(rest)
    case 'show':
      return parseShow(rest)
    case 'replay':
      return parseReplay(rest)
    case 'purge':
      return parsePurge(rest)
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}: use list, show, replay or purge`)
  }
}

function parseList(args: readonly string[]): Parsed | 'help' {
  const { values, positionals } = parseCommandArgs(args, { limit: { type: 'string' }, ...JSON_OPTION })
  if (values.help === true) return 'help'
  if (positionals.length > 1) throw new UsageError('list takes at most one channel')
  const [channel] = positionals
  if (channel !== undefined) checkChannelArgument(channel)
  const limit = positiveIntegerOption('--limit', values.limit) ?? DEFAULT_LIST_LIMIT
  const json = values.json === true
  return withCommon(
    values,
    channel === undefined ? { kind: 'list', limit, json } : { kind: 'list', channel, limit, json },
  )
}

function parseShow(args: readonly string[]): Parsed | 'help' {
  const { values, positionals } = parseCommandArgs(args, JSON_OPTION)
  if (values.help === true) return 'help'
  const [channel, id, ...extra] = positionals
  if (channel === undefined || id === undefined || extra.length > 0) {
    throw new UsageError('show takes a channel and one dead letter id')
  }
  checkChannelArgument(channel)
  return withCommon(values, { kind: 'show', channel, id, json: values.json === true })
}

function parseReplay(args: readonly string[]): Parsed | 'help' {
  const { values, positionals } = parseCommandArgs(args, { all: { type: 'boolean' } })
  if (values.help === true) return 'help'
  const [channel, ...ids] = positionals
  if (channel === undefined) throw new UsageError('replay takes a channel, then dead letter ids or --all')
  checkChannelArgument(channel)
  const all = values.all === true
  if (all && ids.length > 0) throw new UsageError('replay takes dead letter ids or --all, not both')
  if (!all && ids.length === 0) throw new UsageError(`name the dead letters to replay on ${channel}, or pass --all`)
  return withCommon(values, { kind: 'replay', channel, ids: all ? undefined : [...new Set(ids)] })
}

function parsePurge(args: readonly string[]): Parsed | 'help' {
  const { values, positionals } = parseCommandArgs(args, { 'older-than': { type: 'string' }, yes: { type: 'boolean' } })
  if (values.help === true) return 'help'
  const [channel, ...extra] = positionals
  if (channel === undefined || extra.length > 0) throw new UsageError('purge takes exactly one channel')
  checkChannelArgument(channel)
  const olderThan = values['older-than']
  const olderThanMs = olderThan === undefined ? undefined : parseDurationMs(olderThan)
  if (olderThan !== undefined && olderThanMs === undefined) {
    throw new UsageError(
      `--older-than must be a whole number with a unit (ms, s, m, h, d), like 30s or 7d; got ${JSON.stringify(olderThan)}`,
    )
  }
  if (olderThanMs === undefined && values.yes !== true) {
    throw new UsageError(
      `purge without --older-than deletes every dead letter on ${channel}; pass --yes to confirm, or --older-than 7d`,
    )
  }
  return withCommon(values, { kind: 'purge', channel, olderThanMs })
}

function withCommon(values: { readonly app?: string; readonly prefix?: string }, request: Request): Parsed {
  return { request, app: values.app, prefix: values.prefix }
}
