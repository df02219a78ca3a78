import { parseArgs } from 'node:util'

import { AppLoadError, InvalidChannelNameError } from '../../errors.js'
import { assertChannelName, isProcessSpecific } from '../../layers/names.js'
import { runWorker, type WorkerHandle, type WorkerOptions } from '../../worker/worker.js'
import { reportError, type CommandIo } from '../command-error.js'
import { announceLayer } from '../layer-summary.js'
import { loadApp, type LoadedApp } from '../load-app.js'
import { chooseLayer, type LayerCommandDeps } from '../open-layer.js'
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
  const parsed = parseWorkerArgs(args)
  if (parsed.kind === 'help') {
    io.out(WORKER_USAGE)
    return 0
  }
  if (parsed.kind === 'error') {
    io.err(`switchyard worker: ${parsed.message}\n\n${WORKER_USAGE}`)
    return 2
  }
  const { app, prefix, channels, concurrency, shutdownTimeoutMs } = parsed

  let loaded: LoadedApp
  try {
    loaded = await (deps.loadApp ?? ((path: string) => loadApp(path)))(app)
  } catch (error) {
    if (!(error instanceof AppLoadError)) throw error
    reportError('worker', error, io)
    return 1
  }
  const chosen = await chooseLayer(loaded.layer, { prefix }, deps)
  announceLayer('worker', chosen, deps.env ?? process.env, io)
  const { layer } = chosen
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

type ParsedWorkerArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | {
      readonly kind: 'run'
      readonly app: string
      readonly prefix: string | undefined
      readonly channels: readonly string[]
      readonly concurrency: number | undefined
      readonly shutdownTimeoutMs: number | undefined
    }

/** Parses and validates the arguments; every problem is a usage error (exit 2). */
export function parseWorkerArgs(args: readonly string[]): ParsedWorkerArgs {
  let values: { app?: string; prefix?: string; concurrency?: string; 'shutdown-timeout-ms'?: string; help?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        app: { type: 'string' },
        prefix: { type: 'string' },
        concurrency: { type: 'string' },
        'shutdown-timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }))
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error) }
  }
  if (values.help === true) return { kind: 'help' }
  if (values.app === undefined) return { kind: 'error', message: '--app is required' }
  if (positionals.length === 0) return { kind: 'error', message: 'name at least one channel to serve' }
  for (const channel of positionals) {
    const problem = channelProblem(channel)
    if (problem !== undefined) return { kind: 'error', message: problem }
  }
  const concurrency = integerOption('--concurrency', values.concurrency, 1)
  if (typeof concurrency === 'string') return { kind: 'error', message: concurrency }
  const shutdownTimeoutMs = integerOption('--shutdown-timeout-ms', values['shutdown-timeout-ms'], 0)
  if (typeof shutdownTimeoutMs === 'string') return { kind: 'error', message: shutdownTimeoutMs }
  return {
    kind: 'run',
    app: values.app,
    prefix: values.prefix,
    // Serving a channel twice would only split its messages between two instances of the same application.
    channels: [...new Set(positionals)],
    concurrency,
    shutdownTimeoutMs,
  }
}

function channelProblem(channel: string): string | undefined {
  try {
    assertChannelName(channel)
  } catch (error) {
    if (error instanceof InvalidChannelNameError) return error.message
    throw error
  }
  if (isProcessSpecific(channel)) {
    return (
      `Channel name "${channel}" is process-specific (it contains "!"): only the layer instance that created it ` +
      'can receive on it; a worker serves named channels such as "email.send"'
    )
  }
  return undefined
}

/** The option's integer value (at least `min`), undefined when absent, or a usage message. */
function integerOption(flag: string, text: string | undefined, min: number): number | string | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    return `${flag} must be an integer of at least ${min}, got ${JSON.stringify(text)}`
  }
  return value
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
