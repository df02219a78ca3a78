import { AppLoadError, RedisUnavailableError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import { reportError, type CommandIo } from './command-error.js'
import { announceLayer, hasRedisUrl, layerWarning, type ChosenLayer } from './layer-summary.js'
import { defaultLayerFromEnvironment, loadApp, type LoadedApp } from './load-app.js'
import { checkRedisReachable, redisUrlFromEnvironment } from './redis-url.js'

/** What a command that reads a layer uses from the outside world; each defaults to the real thing. */
export interface LayerCommandDeps {
  readonly loadApp: (modulePath: string) => Promise<LoadedApp>
  /** The layer when the app exports none; by default `openEnvironmentLayer`. */
  readonly defaultLayer: (env: NodeJS.ProcessEnv, options: { prefix?: string }) => ChannelLayer | Promise<ChannelLayer>
  readonly env: NodeJS.ProcessEnv
}

/**
 * The layer from the environment, checked before it is built: with `REDIS_URL` set, the URL must be a Redis URL
 * (`InvalidOptionError` naming the variable) and Redis must answer (`RedisUnavailableError` naming the host, the
 * cause and the fix); then `defaultLayerFromEnvironment`'s layer. Checking first means a mistake is one line, not a
 * layer's reconnect loop logging in the background.
 */
export async function openEnvironmentLayer(
  env: NodeJS.ProcessEnv,
  options: { prefix?: string } = {},
): Promise<ChannelLayer> {
  const url = redisUrlFromEnvironment(env)
  if (url !== undefined) await checkRedisReachable(url)
  return defaultLayerFromEnvironment(env, options)
}

/**
 * The layer a command runs on: the app's `layer` export, once it answers (a Redis layer that cannot reach its
 * Redis is closed, and its `RedisUnavailableError` says the export is where to look), else the environment's.
 */
export async function chooseLayer(
  exported: ChannelLayer | undefined,
  { prefix }: { readonly prefix: string | undefined },
  deps: Partial<LayerCommandDeps>,
): Promise<ChosenLayer> {
  if (exported !== undefined) {
    await exportedLayerReady(exported)
    return { layer: exported, origin: 'app' }
  }
  const open = deps.defaultLayer ?? openEnvironmentLayer
  const layer = await open(deps.env ?? process.env, prefix === undefined ? {} : { prefix })
  return { layer, origin: 'environment' }
}

async function exportedLayerReady(layer: ChannelLayer): Promise<void> {
  const ready = (layer as { ready?: unknown }).ready
  if (typeof ready !== 'function') return
  try {
    await (ready as () => Promise<void>).call(layer)
  } catch (error) {
    // By code: a CommonJS --app module has its own copy of the error classes.
    if ((error as { code?: unknown } | null)?.code !== RedisUnavailableError.code) throw error
    await layer.close()
    throw new RedisUnavailableError(
      `${(error as Error).message}; it is the Redis of the --app module's \`layer\` export: start it, or fix the ` +
        'hosts that layer is built with',
      { cause: error },
    )
  }
}

/**
 * The layer a command works on: the `--app` module's `layer` export, else the environment's layer (Redis on
 * $REDIS_URL with `--prefix`, else a new in-memory one, after printing `inMemoryNote`); or exit code 1 after
 * printing why the module could not be loaded. Warns when `REDIS_URL` is set but the app's in-memory layer wins.
 * A bad or unreachable `REDIS_URL` rejects with an error whose message is the one line to print. The caller closes
 * the layer.
 */
export async function openCommandLayer(
  command: string,
  request: { readonly app: string | undefined; readonly prefix: string | undefined },
  io: Pick<CommandIo, 'err' | 'verbose'>,
  deps: Partial<LayerCommandDeps>,
  inMemoryNote: string,
): Promise<ChannelLayer | number> {
  let exported: ChannelLayer | undefined
  if (request.app !== undefined) {
    const loaded = await loadCommandApp(command, request.app, io, deps)
    if (typeof loaded === 'number') return loaded
    exported = loaded.layer
  }
  const env = deps.env ?? process.env
  if (exported === undefined && !hasRedisUrl(env)) {
    io.err(`switchyard ${command}: REDIS_URL is not set, so this reads a new in-memory layer, ${inMemoryNote}\n`)
  }
  const chosen = await chooseLayer(exported, request, deps)
  const warning = layerWarning(chosen, env)
  if (warning !== undefined) io.err(`switchyard ${command}: warning: ${warning}\n`)
  return chosen.layer
}

/**
 * `openCommandLayer`, then `use` the layer, which is closed once `use` settles (the layer a command reads is its
 * own, exported by the app or not: closing it lets the process exit). Resolves `use`'s exit code, or 1 as
 * `openCommandLayer` does.
 */
export async function withCommandLayer(
  command: string,
  request: { readonly app: string | undefined; readonly prefix: string | undefined },
  io: Pick<CommandIo, 'err' | 'verbose'>,
  deps: Partial<LayerCommandDeps>,
  inMemoryNote: string,
  use: (layer: ChannelLayer) => Promise<number>,
): Promise<number> {
  const layer = await openCommandLayer(command, request, io, deps, inMemoryNote)
  if (typeof layer === 'number') return layer
  try {
    return await use(layer)
  } finally {
    await layer.close()
  }
}

/**
 * What `serve` and `worker` start from: the `--app` module and the layer it runs on (`chooseLayer`), announced on
 * stderr; or exit code 1 after printing why the module could not be loaded. The caller closes the layer.
 */
export async function openAppAndLayer(
  command: string,
  request: { readonly app: string; readonly prefix: string | undefined },
  io: Pick<CommandIo, 'err' | 'verbose'>,
  deps: Partial<LayerCommandDeps>,
): Promise<{ loaded: LoadedApp; chosen: ChosenLayer } | number> {
  const loaded = await loadCommandApp(command, request.app, io, deps)
  if (typeof loaded === 'number') return loaded
  const chosen = await chooseLayer(loaded.layer, request, deps)
  announceLayer(command, chosen, deps.env ?? process.env, io)
  return { loaded, chosen }
}

/** The `--app` module, or exit code 1 after printing why it could not be loaded (an `AppLoadError`). */
async function loadCommandApp(
  command: string,
  app: string,
  io: Pick<CommandIo, 'err' | 'verbose'>,
  deps: Partial<LayerCommandDeps>,
): Promise<LoadedApp | number> {
  try {
    return await (deps.loadApp ?? ((path: string) => loadApp(path)))(app)
  } catch (error) {
    if (!(error instanceof AppLoadError)) throw error
    reportError(command, error, io)
    return 1
  }
}
