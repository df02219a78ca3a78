import { serve } from '../../server/serve.js'
import { integerOption, parseCommandArgs, runParsed, UsageError } from '../command-args.js'
import type { CommandIo } from '../command-error.js'
import type { ChosenLayer } from '../layer-summary.js'
import { explainListenError, type PortSource } from '../listen-error.js'
import type { LoadedApp } from '../load-app.js'
import { openAppAndLayer, type LayerCommandDeps } from '../open-layer.js'
import { watchShutdownSignals } from '../signals.js'

/** The command's output streams; injectable for tests. */
export type ServeIo = CommandIo

export const SERVE_USAGE = `Usage: switchyard serve --app <module> [--host <host>] [--port <port>] [--prefix <prefix>]

  --app     A TypeScript or JavaScript module exporting the application as \`default\` or \`application\`,
            and optionally the channel \`layer\` (else the Redis layer on $REDIS_URL, else an in-memory layer)
  --host    Interface to listen on (default 127.0.0.1)
  --port    TCP port, 0 for any free one (default $PORT, else 8000)
  --prefix  Redis key prefix when the layer comes from $REDIS_URL (default $SWITCHYARD_PREFIX, else asgi)

SIGINT or SIGTERM shuts down gracefully: clients get close code 1001 and applications their disconnect.
`

/**
 * `switchyard serve`: loads the application module, serves it, prints the URL, and on SIGINT/SIGTERM shuts down
 * gracefully and resolves 0 (a second signal exits at once). Resolves 2 on bad arguments, 1 when the module cannot
 * be loaded.
 *
 * @example
 * ```sh
 * switchyard serve --app src/app.ts --port 8000
 * # switchyard serving src/app.ts at http://127.0.0.1:8000
 * ```
 */
export async function serveCommand(
  args: readonly string[],
  io: ServeIo,
  deps: Partial<LayerCommandDeps> = {},
): Promise<number> {
  return runParsed({ name: 'serve', usage: SERVE_USAGE }, args, io, parseServeArgs, async (request) => {
    const opened = await openAppAndLayer('serve', request, io, deps)
    if (typeof opened === 'number') return opened
    return serveUntilSignal(request, opened, io, deps.env ?? process.env)
  })
}

/** Serves until the first SIGINT/SIGTERM, then shuts down gracefully and resolves 0. */
async function serveUntilSignal(
  { app, host, port }: ServeRequest,
  { loaded, chosen }: { readonly loaded: LoadedApp; readonly chosen: ChosenLayer },
  io: ServeIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  // Only a layer made here is closed here; the app's own export belongs to the app.
  const ownLayer = chosen.origin === 'environment' ? chosen.layer : undefined
  let server
  try {
    server = await serve({
      application: loaded.application,
      layer: chosen.layer,
      ...(host === undefined ? {} : { host }),
      ...(port === undefined ? {} : { port }),
    })
  } catch (error) {
    await ownLayer?.close()
    throw explainListenError(error, { host, portSource: portSource(port, env) }) ?? error
  }
  // Signals are handled before the URL is printed: whoever waits for it may stop the server at once.
  const watch = watchShutdownSignals((signal) => {
    io.err(`switchyard serve: second signal (${signal}), exiting without waiting\n`)
    process.exit(1)
  })
  io.out(`switchyard serving ${app} at ${server.url}\n`)
  try {
    io.err(`switchyard serve: ${await watch.first}, shutting down\n`)
    await server.close()
    await ownLayer?.close()
  } finally {
    watch.dispose()
  }
  return 0
}

function portSource(port: number | undefined, env: NodeJS.ProcessEnv): PortSource {
  if (port !== undefined) return '--port'
  return env.PORT !== undefined && env.PORT !== '' ? 'PORT' : 'default'
}

interface ServeRequest {
  readonly app: string
  readonly host: string | undefined
  readonly port: number | undefined
  readonly prefix: string | undefined
}

/** Parses and validates the arguments; every problem is a `UsageError` (exit 2). */
function parseServeArgs(args: readonly string[]): ServeRequest | 'help' {
  const { values } = parseCommandArgs(
    args,
    { host: { type: 'string' }, port: { type: 'string' } },
    { allowPositionals: false },
  )
  if (values.help === true) return 'help'
  if (values.app === undefined) throw new UsageError('--app is required')
  // A bad port is one value to fix: the usage under it would bury the message.
  const port = integerOption('--port', values.port, {
    min: 0,
    max: 65_535,
    expected: 'an integer from 0 to 65535',
    withUsage: false,
  })
  return { app: values.app, host: values.host, port, prefix: values.prefix }
}
