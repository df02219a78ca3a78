import type { ChannelLayer } from '../../layers/channel-layer.js'
import { CANCELLABLE_STATUSES, hasTaskStore } from '../../tasks/task-store.js'
import { HELP_WORDS, JSON_OPTION, parseCommandArgs, runParsed, UsageError } from '../command-args.js'
import { formatTaskState } from '../task-state-format.js'
import type { CommandIo } from '../command-error.js'
import { withCommandLayer, type LayerCommandDeps } from '../open-layer.js'

/** The command's output streams; injectable for tests. */
export type TasksIo = CommandIo

export const TASKS_USAGE = `Usage: switchyard tasks <command> [options]

Commands:
  state <id> [--json]  A task's status, attempts and last error; a chain's or chord's, with each step's
  cancel <id>          Cancel a task (or a chain or chord): queued or delayed, it never runs; running,
                       its ctx.signal aborts

Options for every command:
  --app     A module whose \`layer\` export is the channel layer (else the one below)
  --prefix  Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)

The layer is the module's \`layer\` export, else the Redis layer on $REDIS_URL, else a new in-memory layer (which
has no tasks). state exits 0 when the id is known, 1 when not; cancel exits 0 when the task is cancelled (or
already was), 1 when it is unknown or already finished.
`

/** What the command says when it falls back to a new in-memory layer. */
const IN_MEMORY_NOTE = 'which has no tasks; set REDIS_URL or pass --app with a `layer` export'

interface Parsed {
  readonly request:
    | { readonly kind: 'cancel'; readonly taskId: string }
    | { readonly kind: 'state'; readonly taskId: string; readonly json: boolean }
  readonly app: string | undefined
  readonly prefix: string | undefined
}

/**
 * `switchyard tasks state|cancel <id>`: reads (`layer.tasks.getTaskState`) or cancels (`layer.tasks.cancel`) a task
 * of the layer's task store, or a chain or chord by its id, from any process on Redis. `cancel` resolves 0 when
 * the task is cancelled or already was, 1 when it is unknown, already succeeded or dead; `state` 0 when the id is
 * known, 1 when not; both 1 when the layer has no task store, 2 on bad arguments. The layer is closed before it
 * resolves.
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
    withCommandLayer('tasks', parsed, io, deps, IN_MEMORY_NOTE, (layer) => {
      const { request } = parsed
      return request.kind === 'state'
        ? state(request.taskId, request.json, layer, io)
        : cancel(request.taskId, layer, io)
    }),
  )
}

const NO_TASK_STORE =
  'switchyard tasks: the channel layer has no task store (`tasks`); use the in-memory or Redis layer\n'

/** Prints a task's (or flow's) state: a summary, or with `--json` the whole state, its stored result included. */
async function state(taskId: string, json: boolean, layer: ChannelLayer, io: TasksIo): Promise<number> {
  if (!hasTaskStore(layer)) {
    io.err(NO_TASK_STORE)
    return 1
  }
  const found = await layer.tasks.getTaskState(taskId)
  if (found === undefined) {
    io.err(
      `switchyard tasks: no task ${JSON.stringify(taskId)} (unknown, or its state expired after taskStateRetentionMs)\n`,
    )
    return 1
  }
  io.out(json ? `${JSON.stringify(found, null, 2)}\n` : formatTaskState(found))
  return 0
}

async function cancel(taskId: string, layer: ChannelLayer, io: TasksIo): Promise<number> {
  if (!hasTaskStore(layer)) {
    io.err(NO_TASK_STORE)
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
  if (command === undefined) throw new UsageError('name a command: state or cancel')
  if (command !== 'cancel' && command !== 'state') {
    throw new UsageError(`unknown command ${JSON.stringify(command)}: use state or cancel`)
  }
  const { values, positionals } = parseCommandArgs(rest, command === 'state' ? JSON_OPTION : {})
  if (values.help === true) return 'help'
  const [taskId, ...extra] = positionals
  if (taskId === undefined || taskId === '' || extra.length > 0) throw new UsageError(`${command} takes one task id`)
  const common = { app: values.app, prefix: values.prefix }
  if (command === 'cancel') return { ...common, request: { kind: 'cancel', taskId } }
  return { ...common, request: { kind: 'state', taskId, json: (values as { json?: boolean }).json === true } }
}
