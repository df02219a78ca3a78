/** What a command tells people about the channel layer it runs on: which one, and where it came from. */
import type { ChannelLayer } from '../layers/channel-layer.js'
import { describeHost, type RedisHost } from '../layers/redis/redis-options.js'

/** The layer a command runs on, and where it came from. */
export interface ChosenLayer {
  readonly layer: ChannelLayer
  /**
   * `app`: the `--app` module's `layer` export (the module made it); `environment`: made by the command, on Redis
   * when `REDIS_URL` is set, else in memory.
   */
  readonly origin: 'app' | 'environment'
}

/**
 * What `serve` and `worker` print to stderr at start: `switchyard <command>: channel layer: <summary>`, then the
 * warning line when there is one.
 */
export function announceLayer(
  command: string,
  chosen: ChosenLayer,
  env: NodeJS.ProcessEnv,
  io: { err: (text: string) => void },
): void {
  io.err(`switchyard ${command}: channel layer: ${layerSummary(chosen, env)}\n`)
  const warning = layerWarning(chosen, env)
  if (warning !== undefined) io.err(`switchyard ${command}: warning: ${warning}\n`)
}

/**
 * One line for the start of `serve` and `worker`: the layer, then where it came from.
 *
 * @example
 * ```ts
 * layerSummary({ layer, origin: 'environment' }, process.env)
 * // 'Redis at redis://127.0.0.1:6379, prefix "asgi" (from REDIS_URL)'
 * ```
 */
export function layerSummary({ layer, origin }: ChosenLayer, env: NodeJS.ProcessEnv): string {
  const where =
    origin === 'app'
      ? "the --app module's `layer` export"
      : hasRedisUrl(env)
        ? 'from REDIS_URL'
        : 'REDIS_URL is not set'
  const scope = isInMemory(layer) ? ': channels and groups reach this process only' : ''
  return `${describeLayer(layer)} (${where})${scope}`
}

/**
 * The classic mistake, or undefined: `REDIS_URL` is set, so the user expects Redis, but the app's own in-memory
 * layer wins, and two processes started this way share nothing.
 */
export function layerWarning({ layer, origin }: ChosenLayer, env: NodeJS.ProcessEnv): string | undefined {
  if (origin !== 'app' || !hasRedisUrl(env) || !isInMemory(layer)) return undefined
  return (
    "REDIS_URL is set, but the --app module's `layer` export, in memory, is used instead: this process shares no " +
    'channels, groups or tasks with any other. Export no `layer` so that REDIS_URL is used, or export a ' +
    'RedisChannelLayer built on it'
  )
}

/** `Redis at <hosts>, prefix "<prefix>"`, `in memory`, or the layer's class name; never a password. */
export function describeLayer(layer: ChannelLayer): string {
  if (isInMemory(layer)) return 'in memory'
  const options = (layer as { options?: { hosts?: unknown; cluster?: { nodes?: unknown }; prefix?: unknown } }).options
  if (isA(layer, 'RedisChannelLayer') && typeof options?.prefix === 'string') {
    const nodes = options.cluster?.nodes
    if (Array.isArray(nodes)) {
      const seeds = (nodes as readonly string[]).map(describeHost).join(', ')
      return `Redis Cluster via ${seeds}, prefix ${JSON.stringify(options.prefix)}`
    }
    if (Array.isArray(options.hosts)) {
      const hosts = (options.hosts as readonly RedisHost[]).map(describeHost).join(', ')
      return `Redis at ${hosts}, prefix ${JSON.stringify(options.prefix)}`
    }
  }
  return layer.constructor.name
}

export function hasRedisUrl(env: NodeJS.ProcessEnv): boolean {
  return env.REDIS_URL !== undefined && env.REDIS_URL !== ''
}

function isInMemory(layer: ChannelLayer): boolean {
  return isA(layer, 'InMemoryChannelLayer')
}

/**
 * By class name along the prototype chain, not instanceof: an --app module loaded as CommonJS builds its layer
 * from its own copy of the classes.
 */
function isA(value: object, className: string): boolean {
  for (let proto: unknown = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: unknown } }).constructor?.name === className) return true
  }
  return false
}
