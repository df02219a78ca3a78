import type { ChannelLayer } from '../../layers/channel-layer.js'
import { isInspectable } from '../../layers/snapshot.js'
import { hasTaskStore } from '../../tasks/task-store.js'
import { JSON_OPTION, parseCommandArgs, positiveIntegerOption, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import { toJson } from '../dead-letter-format.js'
import { formatSnapshot } from '../inspect-format.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'
import { summarizeSchedule } from '../schedule-format.js'

/** The command's output streams; injectable for tests. */
export type InspectIo = CommandIo

export const INSPECT_USAGE = `Usage: switchyard inspect [--app module] [--prefix p] [--json] [--max-channels N] [--max-groups N]

Prints the channels (backlog, in flight, delayed, dead letters), groups (members per process), workers (alive,
heartbeat, counters), servers (web processes: alive, connections, counters), dead letters per channel and
schedules (periodic tasks: channel, timing, next and last runs) of the channel layer, as aligned tables or as JSON.

Options:
  --app           A module whose \`layer\` export is the channel layer to inspect (else the one below)
  --prefix        Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)
  --json          The snapshot and the schedules as JSON
  --max-channels  Most channels listed (default 1000)
  --max-groups    Most groups listed (default 1000)

The layer is the module's \`layer\` export, else the Redis layer on $REDIS_URL, else a new in-memory layer (which
is empty: it lives in this process only).
`

interface InspectRequest {
  readonly app: string | undefined
  readonly prefix: string | undefined
  readonly json: boolean
  readonly maxChannels: number | undefined
  readonly maxGroups: number | undefined
}

/**
 * `switchyard inspect`: what the layer holds, across processes on Redis. Resolves 0, 2 on bad arguments, 1 when
 * the layer cannot be found or cannot be inspected. The layer is closed before it resolves.
 *
 * @example
 * ```sh
 * REDIS_URL=redis://localhost:6379 switchyard inspect
 * switchyard inspect --app tasks.ts --json
 * ```
 */
export async function inspectCommand(
  args: readonly string[],
  io: InspectIo,
  deps: Partial<LayerCommandDeps> = {},
): Promise<number> {
  return runParsed({ name: 'inspect', usage: INSPECT_USAGE }, args, io, parseInspectArgs, (request) =>
    withCommandLayer('inspect', request, io, deps, 'which is empty; set REDIS_URL or pass --app', (layer) =>
      printSnapshot(layer, request, io),
    ),
  )
}

async function printSnapshot(layer: ChannelLayer, request: InspectRequest, io: InspectIo): Promise<number> {
  if (!isInspectable(layer)) {
    io.err('switchyard inspect: the channel layer has no inspect(); use the in-memory or Redis layer\n')
    return 1
  }
  const [snapshot, schedules] = await Promise.all([
    layer.inspect({
      ...(request.maxChannels === undefined ? {} : { maxChannels: request.maxChannels }),
      ...(request.maxGroups === undefined ? {} : { maxGroups: request.maxGroups }),
    }),
    // A layer without a task store keeps no schedules: its output has no such section (or JSON field).
    hasTaskStore(layer) ? layer.tasks.listSchedules() : undefined,
  ])
  if (!request.json) io.out(formatSnapshot(snapshot, schedules))
  else if (schedules === undefined) io.out(`${toJson(snapshot)}\n`)
  else io.out(`${toJson({ ...snapshot, schedules: schedules.map(summarizeSchedule) })}\n`)
  return 0
}

function parseInspectArgs(args: readonly string[]): InspectRequest | 'help' {
  const { values, positionals } = parseCommandArgs(args, {
    ...JSON_OPTION,
    'max-channels': { type: 'string' },
    'max-groups': { type: 'string' },
  })
  if (values.help === true) return 'help'
  if (positionals.length > 0) throw new UsageError(`inspect takes no arguments, got ${JSON.stringify(positionals[0])}`)
  return {
    app: values.app,
    prefix: values.prefix,
    json: values.json === true,
    maxChannels: positiveIntegerOption('--max-channels', values['max-channels']),
    maxGroups: positiveIntegerOption('--max-groups', values['max-groups']),
  }
}
