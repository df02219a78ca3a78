import type { FastifyInstance } from 'fastify'

import { runWorker, serve, type Application, type WorkerHandle } from 'switchyard-channels'
import type { TaskLayer } from './features.js'

export interface RunOptions {
  readonly application: Application
  readonly layer: TaskLayer
  /** The worker channels to serve in this process. */
  readonly channels: readonly string[]
  /** For the banner: `Switchyard <title>: open <url>/`. */
  readonly title: string
  /** More plugins on the server (the showcase's dashboard and metrics), registered before it listens. */
  readonly configure?: (app: FastifyInstance) => Promise<void>
}

/**
 * What each example's `main.ts` does: serves the application on 127.0.0.1 and `PORT` (default 8000), runs a worker
 * for its channels in the same process (unless `SHOWCASE_WORKER=0`: then run `switchyard worker` separately, on
 * Redis), prints the URL, and shuts both down gracefully on SIGINT/SIGTERM (a second signal exits at once).
 */
export async function runExample(options: RunOptions): Promise<void> {
  const { application, layer, channels } = options
  const server = await serve({
    application,
    layer,
    host: '127.0.0.1',
    ...(options.configure === undefined ? {} : { configure: options.configure }),
  })
  const worker: WorkerHandle | undefined =
    process.env.SHOWCASE_WORKER === '0' || channels.length === 0
      ? undefined
      : runWorker({ application, layer, channels, shutdownTimeoutMs: 5_000 })
  console.log(`Switchyard ${options.title}: open ${server.url}/`)
  if (worker !== undefined) console.log(`  a worker in this process serves the channels: ${channels.join(', ')}`)

  let stopping = false
  const shutdown = async (exitCode: number): Promise<void> => {
    if (stopping) process.exit(1)
    stopping = true
    const results = await Promise.allSettled([worker?.stop(), server.close()])
    const failed = results.filter((result) => result.status === 'rejected')
    for (const { reason } of failed) console.error('shutdown:', reason)
    await layer.close()
    process.exitCode = failed.length > 0 ? 1 : exitCode
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void shutdown(0))
  }
  worker?.done.catch((error: unknown) => {
    console.error('the worker crashed; shutting down', error)
    void shutdown(1)
  })
}
