import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

import { register as registerCommonJsHooks } from 'tsx/cjs/api'
import { register as registerModuleHooks } from 'tsx/esm/api'

import type { Application } from '../application.js'
import { AppLoadError } from '../errors.js'
import type { ChannelLayer } from '../layers/channel-layer.js'
import { InMemoryChannelLayer } from '../layers/memory/memory-layer.js'
import { RedisChannelLayer } from '../layers/redis/redis-layer.js'
import { moduleFormatHint } from './module-format.js'
import { redisUrlFromEnvironment } from './redis-url.js'

/** What an application module provides. */
export interface LoadedApp {
  /** The absolute path that was loaded. */
  readonly path: string
  readonly application: Application
  /** The module's exported `layer`, if any. */
  readonly layer: ChannelLayer | undefined
}

/**
 * Loads the module `switchyard serve --app` names: TypeScript or JavaScript, no build step (tsx compiles it on the
 * fly), resolved against `cwd`. It must export the application as `default` or `application`, and may export the
 * channel `layer` to use. ES modules and CommonJS both load (a project made by `npm init` is CommonJS); where the
 * format is what fails (top-level await in CommonJS), the error says what to change.
 *
 * An ES module app imports the same Switchyard the command runs; a CommonJS one gets tsx's CommonJS copy of it, so
 * values crossing the boundary are matched by shape and error `code`, never by `instanceof`.
 *
 * @example
 * ```ts
 * // app.ts: export default ProtocolTypeRouter({ websocket: URLRouter([...]) }); export const layer = ...
 * const { application, layer } = await loadApp('app.ts')
 * ```
 */
export async function loadApp(modulePath: string, cwd: string = process.cwd()): Promise<LoadedApp> {
  const path = resolve(cwd, modulePath)
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new AppLoadError(`Cannot load --app ${JSON.stringify(modulePath)}: there is no file at ${path}`)
  }
  registerTypeScript()
  let namespace: Readonly<Record<string, unknown>>
  try {
    namespace = (await import(pathToFileURL(path).href)) as Readonly<Record<string, unknown>>
  } catch (error) {
    const hint = moduleFormatHint(path, error)
    const detail = hint ?? `importing it threw ${describeError(error)}`
    throw new AppLoadError(`Cannot load --app ${path}: ${detail}`, { cause: error })
  }
  const application = pickApplication(path, namespace)
  const layer = namespace.layer
  if (layer !== undefined && !isChannelLayer(layer)) {
    throw new AppLoadError(
      `The \`layer\` export of ${path} is not a channel layer (no groupAdd/groupSend/newChannel methods); export a ` +
        'ChannelLayer instance, e.g. new InMemoryChannelLayer()',
    )
  }
  return Object.freeze({ path, application, layer })
}

let registered = false

/**
 * tsx's hooks for the whole process, as `node --import tsx` sets them: the app's own imports (its other .ts files,
 * modules loaded later) compile too, and an ES module app shares this process's Switchyard instead of a copy.
 */
function registerTypeScript(): void {
  if (registered) return
  registered = true
  registerModuleHooks()
  registerCommonJsHooks()
}

/**
 * The layer for an application that exports none: the Redis layer on `REDIS_URL` (key prefix `prefix`, else
 * `SWITCHYARD_PREFIX`, else channels_redis' `asgi`) when it is set, else the in-memory layer. A `REDIS_URL` that is
 * not a Redis URL is an `InvalidOptionError` naming it. Every command that needs a layer finds it this way, through
 * `openEnvironmentLayer`, which first checks that Redis answers.
 */
export function defaultLayerFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  { prefix }: { prefix?: string } = {},
): ChannelLayer {
  const url = redisUrlFromEnvironment(env)
  if (url === undefined) return new InMemoryChannelLayer()
  return new RedisChannelLayer({ hosts: [url], prefix: prefix ?? env.SWITCHYARD_PREFIX ?? 'asgi' })
}

function pickApplication(path: string, namespace: Readonly<Record<string, unknown>>): Application {
  // A CommonJS module imported as ESM puts module.exports on `default`.
  const defaultExport = namespace.default
  const nested =
    typeof defaultExport === 'object' && defaultExport !== null
      ? (defaultExport as Readonly<Record<string, unknown>>)
      : undefined
  const candidate = namespace.application ?? (typeof defaultExport === 'function' ? defaultExport : undefined)
  const found = candidate ?? nested?.application ?? nested?.default
  if (found === undefined) {
    const exported = Object.keys(namespace).filter((key) => key !== '__esModule')
    throw new AppLoadError(
      `${path} exports no application: export it as \`default\` or as \`application\` ` +
        `(found exports: ${exported.length === 0 ? 'none' : exported.join(', ')})`,
    )
  }
  if (typeof found !== 'function') {
    throw new AppLoadError(
      `The application exported by ${path} is a ${typeof found}, not a function (scope, receive, send) => Promise<void>`,
    )
  }
  if ('asApp' in found) {
    throw new AppLoadError(
      `${path} exports the consumer class ${found.name} itself; export an application instead, e.g. ` +
        `\`export default ${found.name}.asApp()\` or a router built from it`,
    )
  }
  return found as Application
}

function isChannelLayer(value: unknown): value is ChannelLayer {
  if (typeof value !== 'object' || value === null) return false
  const layer = value as Readonly<Record<string, unknown>>
  return ['groupAdd', 'groupSend', 'newChannel', 'send', 'receive'].every((name) => typeof layer[name] === 'function')
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}
