/** What the examples read from the environment, in one place. */
import { InMemoryChannelLayer } from 'switchyard-channels'
import { RedisChannelLayer } from 'switchyard-channels/redis'
import type { TaskLayer } from './features.js'

/**
 * In memory (one process: the server and its in-process worker) unless `REDIS_URL` is set: then every process on
 * that Redis, `switchyard worker` ones included, shares rooms, jobs and deliveries. The key prefix is
 * `SWITCHYARD_PREFIX`, else channels_redis' `asgi`, as for the `switchyard` command.
 */
export function layerFromEnvironment(env: NodeJS.ProcessEnv = process.env): TaskLayer {
  const url = env.REDIS_URL
  if (url === undefined || url === '') return new InMemoryChannelLayer()
  const prefix = env.SWITCHYARD_PREFIX
  return new RedisChannelLayer({ hosts: [url], prefix: prefix === undefined || prefix === '' ? 'asgi' : prefix })
}

/** `ALLOW_PRIVATE_WEBHOOKS=1` turns the webhook SSRF guard off, for local testing against the local receiver. */
export function allowPrivateWebhooks(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ALLOW_PRIVATE_WEBHOOKS === '1'
}
