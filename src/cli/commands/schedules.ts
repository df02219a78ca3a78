import type { ChannelLayer } from '../../layers/channel-layer.js'
import { hasTaskStore } from '../../tasks/task-store.js'
import { HELP_WORDS, JSON_OPTION, parseCommandArgs, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'
import { formatScheduleTable, summarizeSchedule } from '../schedule-format.js'

export const SCHEDULES_USAGE = `Usage: switchyard schedules <command> [options]

Commands:
  list [--json]      Periodic tasks with their channel, timing, next and last runs (soonest first)
  remove <id>        Remove one periodic task

Options for every command:
  --app     A module whose \`layer\` export is the channel layer (else the one below)
  --prefix  Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)

The layer is the module's \`layer\` export, else the Redis layer on $REDIS_URL, else a new in-memory layer (which
has no schedules). Listings never print message payloads.
`

const IN_MEMORY_NOTE = 'which has no schedules; set REDIS_URL or pass --app with a `layer` export'

type Request = { readonly kind: 'list'; readonly json: boolean } | { readonly kind: 'remove'; readonly id: string }

interface Parsed {
  readonly request: Request
  readonly app: string | undefined
  readonly prefix: string | undefined
}

/**
 * `switchyard schedules list | remove`: the periodic tasks of the layer's task store (issue 17). Resolves 0 on
 * success, 2 on bad arguments, 1 when the layer has no task store or `remove` names no schedule.
 *
 * @example
 * ```sh
 * REDIS_URL=redis://localhost:6379 switchyard schedules list
 * switchyard schedules remove nightly-report
 * ```
 */
export async function schedulesCommand(
  args: readonly string[],
  io: CommandIo,
  deps: Partial<LayerCommandDeps> = {},
): Promise<number> {
  return runParsed({ name: 'schedules', usage: SCHEDULES_USAGE }, args, io, parseSchedulesArgs, (parsed) =>
    withCommandLayer('schedules', parsed, io, deps, IN_MEMORY_NOTE, (layer) => runRequest(parsed.request, layer, io)),
  )
}

async function runRequest(request: Request, layer: ChannelLayer, io: CommandIo): Promise<number> {
  if (!hasTaskStore(layer)) {
    io.err('switchyard schedules: the channel layer has no task store (`tasks`), so it keeps no schedules\n')
    return 1
  }
  if (request.kind === 'remove') {
    if (await layer.tasks.unschedule(request.id)) {
      io.out(`Removed schedule ${request.id}\n`)
      return 0
    }
    io.err(`switchyard schedules: no schedule ${JSON.stringify(request.id)}\n`)
    return 1
  }
  const schedules = await layer.tasks.listSchedules()
  if (request.json) io.out(`${JSON.stringify(schedules.map(summarizeSchedule), null, 2)}\n`)
  else if (schedules.length === 0) io.out('No schedules\n')
  else io.out(formatScheduleTable(schedules))
  return 0
}

/** Parses the arguments; a `UsageError` for anything wrong (exit 2). */
export function parseSchedulesArgs(args: readonly string[]): Parsed | 'help' {
  const [command, ...rest] = args
  if (command !== undefined && HELP_WORDS.has(command)) return 'help'
  if (command !== 'list' && command !== 'remove') {
    throw new UsageError(
      command === undefined
        ? 'name a command: list or remove'
        : `unknown command ${JSON.stringify(command)}: use list or remove`,
    )
  }
  const { values, positionals } = parseCommandArgs(rest, command === 'list' ? JSON_OPTION : {})
  if (values.help === true) return 'help'
  const common = { app: values.app, prefix: values.prefix }
  if (command === 'list') {
    if (positionals.length > 0) throw new UsageError('list takes no arguments')
    return { ...common, request: { kind: 'list', json: (values as { json?: boolean }).json === true } }
  }
  const [id, ...extra] = positionals
  if (id === undefined || extra.length > 0) throw new UsageError('remove takes exactly one schedule id')
  return { ...common, request: { kind: 'remove', id } }
}
