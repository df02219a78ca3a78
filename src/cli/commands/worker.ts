import { isProcessSpecific } from '../../layers/names.js'
import { runWorker, type WorkerHandle, type WorkerOptions } from '../../worker/worker.js'
import { checkChannelArgument, integerOption, parseCommandArgs, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import type { ChosenLayer } from '../layer-summary.js'
import type { LoadedApp } from '../load-app.js'
import { openAppAndLayer, type LayerCommandDeps } from '../open-layer.js'
import { watchShutdownSignals, type SignalSource } from '../signals.js'

/** The command's output streams; injectable for tests. */
export type WorkerIo = CommandIo

/** What the command uses from the outside world; each defaults to the real thing. Tests replace them. */
export interface WorkerDeps extends LayerCommandDeps {
  readonly runWorker: (options: WorkerOptions) => WorkerHandle
  readonly signals: SignalSource
  /** Ends the process on a second signal, without waiting. */
  readonly exit: (code: number) => void
}

export const WORKER_USAGE = `Usage: switchyard worker --app <module> [options] <channel...>

Serves background channels (Django Channels' runworker): one application instance per channel, each taking its
messages from the channel layer.

  --app                  A TypeScript or JavaScript module exporting the application as \`default\` or
                         \`application\` (usually ProtocolTypeRouter({ channel: ChannelNameRouter({ ... }) })),
                         and optionally the channel \`layer\` (else the Redis layer on $REDIS_URL, else in-memory)
  --prefix               Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)
  --concurrency          Messages handled at once per channel, overriding each consumer's static concurrency
  --shutdown-timeout-ms  On SIGINT/SIGTERM, how long running tasks may finish (default: runWorker's)

SIGINT or SIGTERM stops taking messages, lets running ones finish and exits 0; a second signal exits 1 at once.
`

/**
 * `switchyard worker`: loads the application module, serves the named channels with `runWorker`, prints one line
 * per channel, and on SIGINT/SIGTERM stops gracefully and resolves 0 (a second signal exits 1 at once). Resolves
 * 2 on bad arguments, 1 when the module cannot be loaded or a channel's application crashes.
 *
 * @example
 * ```sh
 * switchyard worker --app src/app.ts --concurrency 4 email.send thumbnails
 * # switchyard worker serving channel email.send (src/app.ts)
 * # switchyard worker serving channel thumbnails (src/app.ts)
 * ```
 */
export async function workerCommand(
  args: readonly string[],
  io: WorkerIo,
  deps: Partial<WorkerDeps> = {},
): Promise<number> {
  return runParsed({ name: 'worker', usage: WORKER_USAGE }, args, io, parseWorkerArgs, async (request) => {
    const opened = await openAppAndLayer('worker', request, io, deps)
    if (typeof opened === 'number') return opened
    return serveChannels(request, opened, io, deps)
  })
}

/** Runs the worker on the channels until it stops; resolves the exit code. */
async function serveChannels(
  { app, channels, concurrency, shutdownTimeoutMs }: WorkerRequest,
  { loaded, chosen: { layer } }: { readonly loaded: LoadedApp; readonly chosen: ChosenLayer },
  io: WorkerIo,
  deps: Partial<WorkerDeps>,
): Promise<number> {
  try {
    const handle = (deps.runWorker ?? runWorker)({
      application: loaded.application,
      layer,
      channels,
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs }),
    })
    return await untilStopped(handle, io, deps, () => {
      for (const channel of channels) io.out(`switchyard worker serving channel ${channel} (${app})\n`)
    })
  } finally {
    // The worker process owns the layer now, exported or not: closing it lets the process exit.
    await layer.close()
  }
}

/**
 * Waits for a signal (then stops the worker) or for the worker to end on its own; resolves the exit code. `started`
 * runs once signals are handled: whoever waits for its lines may stop the worker at once.
 */
async function untilStopped(
  handle: WorkerHandle,
  io: WorkerIo,
  deps: Partial<WorkerDeps>,
  started: () => void,
): Promise<number> {
  const exit = deps.exit ?? ((code: number) => process.exit(code))
  const watch = watchShutdownSignals((signal) => {
    io.err(`switchyard worker: second signal (${signal}), exiting without waiting\n`)
    exit(1)
  }, deps.signals)
  started()
  try {
    const outcome = await Promise.race([
      watch.first.then((signal) => ({ kind: 'signal', signal }) as const),
      handle.done.then(
        () => ({ kind: 'returned' }) as const,
        (error: unknown) => ({ kind: 'crashed', error }) as const,
      ),
    ])
    if (outcome.kind === 'crashed') {
      io.err(`switchyard worker: a channel's application crashed: ${describeError(outcome.error)}\n`)
      return 1
    }
    if (outcome.kind === 'returned') {
      io.err('switchyard worker: every channel application returned; exiting\n')
      return 0
    }
    io.err(`switchyard worker: ${outcome.signal}, finishing running tasks (a second signal exits at once)\n`)
    try {
      await handle.stop()
    } catch (error) {
      io.err(`switchyard worker: a channel's application crashed while stopping: ${describeError(error)}\n`)
      return 1
    }
    io.err('switchyard worker: stopped\n')
    return 0
  } finally {
    watch.dispose()
  }
}

interface WorkerRequest {
  readonly app: string
  readonly prefix: string | undefined
  readonly channels: readonly string[]
  readonly concurrency: number | undefined
  readonly shutdownTimeoutMs: number | undefined
}

/** Parses and validates the arguments; every problem is a `UsageError` (exit 2). */
export function parseWorkerArgs(args: readonly string[]): WorkerRequest | 'help' {
  const { values, positionals } = parseCommandArgs(args, {
    concurrency: { type: 'string' },
    'shutdown-timeout-ms': { type: 'string' },
  })
  if (values.help === true) return 'help'
  if (values.app === undefined) throw new UsageError('--app is required')
  if (positionals.length === 0) throw new UsageError('name at least one channel to serve')
  for (const channel of positionals) checkServedChannel(channel)
  return {
    app: values.app,
    prefix: values.prefix,
    // Serving a channel twice would only split its messages between two instances of the same application.
    channels: [...new Set(positionals)],
    concurrency: atLeast('--concurrency', values.concurrency, 1),
    shutdownTimeoutMs: atLeast('--shutdown-timeout-ms', values['shutdown-timeout-ms'], 0),
  }
}

function checkServedChannel(channel: string): void {
  checkChannelArgument(channel)
  if (isProcessSpecific(channel)) {
    throw new UsageError(
      `Channel name "${channel}" is process-specific (it contains "!"): only the layer instance that created it ` +
        'can receive on it; a worker serves named channels such as "email.send"',
    )
  }
}

function atLeast(flag: string, text: string | undefined, min: number): number | undefined {
  return integerOption(flag, text, { min, expected: `an integer of at least ${min}` })
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
