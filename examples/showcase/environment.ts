/** What the examples read from the environment, in one place. */
import { InMemoryChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'
import { CHAT_LAYER_OPTIONS } from './chat-room-consumer.js'
import type { TaskLayer } from './features.js'

/**
 * In memory (one process: the server and its in-process worker) unless `REDIS_URL` is set: then every process on
 * that Redis, `switchyard worker` ones included, shares rooms, jobs and deliveries. The key prefix is
 * `SWITCHYARD_PREFIX`, else channels_redis' `asgi`, as for the `switchyard` command. Either way chat rooms keep
 * history and presence (`CHAT_LAYER_OPTIONS`). On Redis, `SWITCHYARD_HEARTBEAT_MS` and `SWITCHYARD_STALE_AFTER_MS`
 * set how often a process says it is alive and how soon a silent one's members leave rooms (defaults 5 s and 30 s).
 */
export function layerFromEnvironment(env: NodeJS.ProcessEnv = process.env): TaskLayer {
  const url = env.REDIS_URL
  if (url === undefined || url === '') return new InMemoryChannelLayer(CHAT_LAYER_OPTIONS)
  const prefix = env.SWITCHYARD_PREFIX
  return new RedisChannelLayer({
    hosts: [url],
    prefix: prefix === undefined || prefix === '' ? 'asgi' : prefix,
    ...CHAT_LAYER_OPTIONS,
    ...milliseconds('heartbeatIntervalMs', env.SWITCHYARD_HEARTBEAT_MS),
    ...milliseconds('staleAfterMs', env.SWITCHYARD_STALE_AFTER_MS),
  })
}

/** `{ [option]: value }` for a set variable (the layer validates it), `{}` for an unset one. */
function milliseconds<K extends string>(option: K, value: string | undefined): Partial<Record<K, number>> {
  return value === undefined || value === '' ? {} : ({ [option]: Number(value) } as Record<K, number>)
}

/** `ALLOW_PRIVATE_WEBHOOKS=1` turns the webhook SSRF guard off, for local testing against the local receiver. */
export function allowPrivateWebhooks(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ALLOW_PRIVATE_WEBHOOKS === '1'
}
