import type { ChannelLayer } from '../../layers/channel-layer.js'
import { CANCELLABLE_STATUSES, hasTaskStore } from '../../tasks/task-store.js'
import { HELP_WORDS, parseCommandArgs, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'

/** The command's output streams; injectable for tests. */
export type TasksIo = CommandIo

export const TASKS_USAGE = `Usage: switchyard tasks <command> [options]

Commands:
  cancel <id>  Cancel a task: queued or delayed, it never runs; running, its ctx.signal aborts

Options for every command:
  --app     A module whose \`layer\` export is the channel layer (else the one below)
  --prefix  Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)

The layer is the module's \`layer\` export, else the Redis layer on $REDIS_URL, else a new in-memory layer (which
has no tasks). Exits 0 when the task is cancelled (or already was), 1 when it is unknown or already finished.
`

/** What the command says when it falls back to a new in-memory layer. */
const IN_MEMORY_NOTE = 'which has no tasks; set REDIS_URL or pass --app with a `layer` export'

interface Parsed {
  readonly request: { readonly kind: 'cancel'; readonly taskId: string }
  readonly app: string | undefined
  readonly prefix: string | undefined
}

/**
 * `switchyard tasks cancel <id>`: cancels a task of the layer's task store (`layer.tasks.cancel`), from any process
 * on Redis. Resolves 0 when the task is cancelled or already was, 1 when it is unknown, already succeeded or dead,
 * or the layer has no task store, 2 on bad arguments. The layer is closed before it resolves.
 *
 * @example
 * ```sh
 * REDIS_URL=redis://localhost:6379 switchyard tasks cancel welcome-42
 * ```
 */
export async function tasksCommand(
  args: readonly string[],
  io: TasksIo,
  deps: Partial<LayerCommandDeps> = {},
): Promise<number> {
  return runParsed({ name: 'tasks', usage: TASKS_USAGE }, args, io, parseTasksArgs, (parsed) =>
    withCommandLayer('tasks', parsed, io, deps, IN_MEMORY_NOTE, (layer) => cancel(parsed.request.taskId, layer, io)),
  )
}

async function cancel(taskId: string, layer: ChannelLayer, io: TasksIo): Promise<number> {
  if (!hasTaskStore(layer)) {
    io.err('switchyard tasks: the channel layer has no task store (`tasks`); use the in-memory or Redis layer\n')
    return 1
  }
  const before = await layer.tasks.cancel(taskId)
  const name = JSON.stringify(taskId)
  if (before === undefined) {
    io.err(`switchyard tasks: no task ${name} (unknown, or its state expired after taskStateRetentionMs)\n`)
    return 1
  }
  if (before === 'cancelled') {
    io.out(`Task ${name} was already cancelled\n`)
    return 0
  }
  if (!CANCELLABLE_STATUSES.has(before)) {
    io.err(`switchyard tasks: task ${name} already ${before === 'dead' ? 'died' : before}; nothing to cancel\n`)
    return 1
  }
  io.out(
    before === 'running'
      ? `Cancelled task ${name} (running: its worker aborts ctx.signal within one renewal tick)\n`
      : `Cancelled task ${name} (${before}: it will not run)\n`,
  )
  return 0
}

/** Parses the arguments; a `UsageError` for anything wrong (exit 2). */
export function parseTasksArgs(args: readonly string[]): Parsed | 'help' {
  const [command, ...rest] = args
  if (command !== undefined && HELP_WORDS.has(command)) return 'help'
  if (command === undefined) throw new UsageError('name a command: cancel')
  if (command !== 'cancel') throw new UsageError(`unknown command ${JSON.stringify(command)}: use cancel`)
  const { values, positionals } = parseCommandArgs(rest, {})
  if (values.help === true) return 'help'
  const [taskId, ...extra] = positionals
  if (taskId === undefined || taskId === '' || extra.length > 0) throw new UsageError('cancel takes one task id')
  return { request: { kind: 'cancel', taskId }, app: values.app, prefix: values.prefix }
}
