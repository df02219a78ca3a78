import { parseArgs } from 'node:util'

import { AppLoadError } from '../../errors.js'
import { serve } from '../../server/serve.js'
import { reportError, type CommandIo } from '../command-error.js'
import { announceLayer } from '../layer-summary.js'
import { explainListenError, type PortSource } from '../listen-error.js'
import { loadApp } from '../load-app.js'
import { chooseLayer, type LayerCommandDeps } from '../open-layer.js'
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
  const parsed = parseServeArgs(args)
  if (parsed.kind === 'help') {
    io.out(SERVE_USAGE)
    return 0
  }
  if (parsed.kind === 'error') {
    io.err(`switchyard serve: ${parsed.message}\n${parsed.withUsage ? `\n${SERVE_USAGE}` : ''}`)
    return 2
  }
  const { app, host, port, prefix } = parsed

  let loaded
  try {
    loaded = await (deps.loadApp ?? ((path: string) => loadApp(path)))(app)
  } catch (error) {
    if (!(error instanceof AppLoadError)) throw error
    reportError('serve', error, io)
    return 1
  }
  const env = deps.env ?? process.env
  const chosen = await chooseLayer(loaded.layer, { prefix }, deps)
  announceLayer('serve', chosen, env, io)
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

type ParsedServeArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string; readonly withUsage: boolean }
  | {
      readonly kind: 'run'
      readonly app: string
      readonly host: string | undefined
      readonly port: number | undefined
      readonly prefix: string | undefined
    }

/** Parses and validates the arguments; every problem is a usage error (exit 2). */
function parseServeArgs(args: readonly string[]): ParsedServeArgs {
  let values: { app?: string; host?: string; port?: string; prefix?: string; help?: boolean }
  try {
    values = parseArgs({
      args: [...args],
      options: {
        app: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        prefix: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? error.message : String(error), withUsage: true }
  }
  if (values.help === true) return { kind: 'help' }
  if (values.app === undefined) return { kind: 'error', message: '--app is required', withUsage: true }
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && (!/^\d+$/.test(values.port ?? '') || port > 65_535)) {
    const message = `--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`
    return { kind: 'error', message, withUsage: false }
  }
  return { kind: 'run', app: values.app, host: values.host, port, prefix: values.prefix }
}
