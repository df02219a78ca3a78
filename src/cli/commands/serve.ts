import { parseArgs } from 'node:util'

import { AppLoadError } from '../../errors.js'
import { serve } from '../../server/serve.js'
import { defaultLayerFromEnvironment, loadApp } from '../load-app.js'
import { watchShutdownSignals } from '../signals.js'

/** The command's output streams; injectable for tests. */
export interface ServeIo {
  out: (text: string) => void
  err: (text: string) => void
}

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
export async function serveCommand(args: readonly string[], io: ServeIo): Promise<number> {
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
    io.err(`switchyard serve: ${error instanceof Error ? error.message : String(error)}\n\n${SERVE_USAGE}`)
    return 2
  }
  if (values.help === true) {
    io.out(SERVE_USAGE)
    return 0
  }
  if (values.app === undefined) {
    io.err(`switchyard serve: --app is required\n\n${SERVE_USAGE}`)
    return 2
  }
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && (!/^\d+$/.test(values.port ?? '') || port > 65_535)) {
    io.err(`switchyard serve: --port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}\n`)
    return 2
  }

  let loaded
  try {
    loaded = await loadApp(values.app)
  } catch (error) {
    if (!(error instanceof AppLoadError)) throw error
    io.err(`switchyard serve: ${error.message}\n`)
    return 1
  }
  const ownLayer =
    loaded.layer === undefined
      ? defaultLayerFromEnvironment(process.env, values.prefix === undefined ? {} : { prefix: values.prefix })
      : undefined
  const server = await serve({
    application: loaded.application,
    layer: loaded.layer ?? ownLayer,
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(port === undefined ? {} : { port }),
  })
  io.out(`switchyard serving ${values.app} at ${server.url}\n`)

  const watch = watchShutdownSignals((signal) => {
    io.err(`switchyard serve: second signal (${signal}), exiting without waiting\n`)
    process.exit(1)
  })
  try {
    io.err(`switchyard serve: ${await watch.first}, shutting down\n`)
    await server.close()
    await ownLayer?.close()
  } finally {
    watch.dispose()
  }
  return 0
}
