import { AppLoadError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import { defaultLayerFromEnvironment, loadApp, type LoadedApp } from './load-app.js'

/** What a command that reads a layer uses from the outside world; each defaults to the real thing. */
export interface LayerCommandDeps {
  readonly loadApp: (modulePath: string) => Promise<LoadedApp>
  readonly defaultLayer: (env: NodeJS.ProcessEnv, options: { prefix?: string }) => ChannelLayer
  readonly env: NodeJS.ProcessEnv
}

/**
 * The layer a command works on: the `--app` module's `layer` export, else the environment's layer (Redis on
 * $REDIS_URL with `--prefix`, else a new in-memory one, after printing `inMemoryNote`); or exit code 1 after
 * printing why the module could not be loaded. The caller closes the layer.
 */
export async function openCommandLayer(
  command: string,
  request: { readonly app: string | undefined; readonly prefix: string | undefined },
  io: { err: (text: string) => void },
  deps: Partial<LayerCommandDeps>,
  inMemoryNote: string,
): Promise<ChannelLayer | number> {
  let exported: ChannelLayer | undefined
  if (request.app !== undefined) {
    try {
      exported = (await (deps.loadApp ?? ((path: string) => loadApp(path)))(request.app)).layer
    } catch (error) {
      if (!(error instanceof AppLoadError)) throw error
      io.err(`switchyard ${command}: ${error.message}\n`)
      return 1
    }
  }
  if (exported !== undefined) return exported
  const env = deps.env ?? process.env
  if (env.REDIS_URL === undefined || env.REDIS_URL === '') {
    io.err(`switchyard ${command}: REDIS_URL is not set, so this reads a new in-memory layer, ${inMemoryNote}\n`)
  }
  const prefix = request.prefix
  return (deps.defaultLayer ?? defaultLayerFromEnvironment)(env, prefix === undefined ? {} : { prefix })
}
