import type { ChannelLayer } from '../../layers/channel-layer.js'
import { isPurgeable } from '../../layers/snapshot.js'
import { DEFAULT_TASK_STORE_OPTIONS, hasTaskStore, type TaskStore } from '../../tasks/task-store.js'
import { parseCommandArgs, positiveIntegerOption, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import { formatAge } from '../inspect-format.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'
import { oneLine, plural } from '../table.js'

/** The command's output streams; injectable for tests. */
export type PurgeIo = CommandIo

/** A progress line every this many channels or groups unless `--progress-every` says otherwise. */
export const DEFAULT_PROGRESS_EVERY = 100

export const PURGE_USAGE = `Usage: switchyard purge [--app module] [--prefix p] [--dry-run] [--progress-every N]

Removes expired state from the channel layer:
  dead letters   older than the layer's deadLetterRetentionMs (7 days by default), on every channel
  workers        registry entries whose heartbeat stopped (older than three renewal periods)
  groups         memberships older than groupExpiryMs (group sends skip them; nothing else deletes them)
Task states need nothing: they expire on their own after taskStateRetentionMs.

Options:
  --app             A module whose \`layer\` export is the channel layer (else the one below)
  --prefix          Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)
  --dry-run         Count what would be removed; remove nothing
  --progress-every  Print a progress line every N channels or groups (default 100)
`

interface PurgeRequest {
  readonly app: string | undefined
  readonly prefix: string | undefined
  readonly dryRun: boolean
  readonly every: number
}

/**
 * `switchyard purge`: removes expired dead letters, stale workers and expired group memberships, printing a
 * progress line every `--progress-every` items on long runs. Resolves 0, 2 on bad arguments, 1 when the layer
 * cannot be found. The layer is closed before it resolves.
 *
 * @example
 * ```sh
 * REDIS_URL=redis://localhost:6379 switchyard purge --dry-run
 * ```
 */
export async function purgeCommand(
  args: readonly string[],
  io: PurgeIo,
  deps: Partial<LayerCommandDeps> = {},
): Promise<number> {
  return runParsed({ name: 'purge', usage: PURGE_USAGE }, args, io, parsePurgeArgs, (request) =>
    withCommandLayer('purge', request, io, deps, 'which has nothing to purge; set REDIS_URL', (layer) =>
      purgeLayer(layer, request, io),
    ),
  )
}

async function purgeLayer(layer: ChannelLayer, request: PurgeRequest, io: PurgeIo): Promise<number> {
  const verb = request.dryRun ? 'would remove' : 'removed'
  if (hasTaskStore(layer)) {
    await purgeDeadLetters(layer.tasks, request, io, verb)
    io.out(
      `task states: nothing to do (they expire on their own after ${formatAge(
        (layer.tasks.options ?? DEFAULT_TASK_STORE_OPTIONS).taskStateRetentionMs,
      )})\n`,
    )
    await purgeWorkers(layer.tasks, request, io, verb)
  } else {
    io.out('dead letters, workers: the layer has no task store; skipped\n')
  }
  if (isPurgeable(layer)) {
    const removed = await layer.purgeExpiredMemberships({
      dryRun: request.dryRun,
      onProgress: progress('groups', request.every, io),
    })
    io.out(`groups: ${verb} ${plural(removed, 'expired membership')}\n`)
  } else {
    io.out('groups: the layer cannot purge memberships; skipped\n')
  }
  return 0
}

async function purgeDeadLetters(tasks: TaskStore, request: PurgeRequest, io: PurgeIo, verb: string): Promise<void> {
  const retentionMs = (tasks.options ?? DEFAULT_TASK_STORE_OPTIONS).deadLetterRetentionMs
  const channels = await tasks.deadLetterChannels()
  const report = progress('dead letters', request.every, io)
  let purged = 0
  for (const [index, channel] of channels.entries()) {
    purged += await tasks.purgeDeadLetters(channel, { olderThanMs: retentionMs, dryRun: request.dryRun })
    report(index + 1, channels.length)
  }
  io.out(
    `dead letters: ${verb} ${plural(purged, 'dead letter')} older than ${formatAge(retentionMs)} ` +
      `from ${plural(channels.length, 'channel')}\n`,
  )
}

/** Workers whose heartbeat stopped (`alive` false): they crashed, or stopped without reaching Redis. */
async function purgeWorkers(tasks: TaskStore, request: PurgeRequest, io: PurgeIo, verb: string): Promise<void> {
  const workers = await tasks.listWorkers()
  const stale = workers.filter((worker) => !worker.alive)
  for (const worker of stale) {
    if (!request.dryRun) await tasks.forgetWorker(worker.id)
    io.out(`workers: ${verb} ${oneLine(worker.id)} (last heartbeat ${formatAge(worker.heartbeatAgeMs)} ago)\n`)
  }
  io.out(`workers: ${verb} ${plural(stale.length, 'stale worker')} of ${workers.length}\n`)
}

/** A progress callback printing `<what>: done/total` every `every` items, and at the end of a long run. */
function progress(what: string, every: number, io: PurgeIo): (done: number, total: number) => void {
  let printed = 0
  return (done, total) => {
    if (total <= every) return
    if (Math.floor(done / every) > Math.floor(printed / every) || (done === total && printed !== total)) {
      io.out(`${what}: ${done}/${total} ...\n`)
      printed = done
    }
  }
}

function parsePurgeArgs(args: readonly string[]): PurgeRequest | 'help' {
  const { values, positionals } = parseCommandArgs(args, {
    'dry-run': { type: 'boolean' },
    'progress-every': { type: 'string' },
  })
  if (values.help === true) return 'help'
  if (positionals.length > 0) throw new UsageError(`purge takes no arguments, got ${JSON.stringify(positionals[0])}`)
  const every = positiveIntegerOption('--progress-every', values['progress-every']) ?? DEFAULT_PROGRESS_EVERY
  return { app: values.app, prefix: values.prefix, dryRun: values['dry-run'] === true, every }
}
