/** `REDIS_URL` for the commands: checked before any layer is built, so a mistake is one clear line. */
import { Redis } from 'ioredis'

import { InvalidOptionError, RedisUnavailableError } from '../errors.js'
import { describeHost } from '../layers/redis/redis-options.js'

/** How long a command waits for Redis to answer at start before it gives up. */
export const REDIS_CHECK_TIMEOUT_MS = 5_000

const SCHEMES = new Set(['redis:', 'rediss:', 'unix:'])

/**
 * `REDIS_URL` from `env`: undefined when unset or empty, else the URL, which must parse and use `redis://`,
 * `rediss://` (TLS) or `unix://`. Otherwise an `InvalidOptionError` naming the variable and the expected form; the
 * value it quotes has its password masked.
 */
export function redisUrlFromEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  const url = env.REDIS_URL
  if (url === undefined || url === '') return undefined
  let scheme: string | undefined
  try {
    scheme = new URL(url).protocol
  } catch {
    scheme = undefined
  }
  if (scheme === undefined || !SCHEMES.has(scheme)) {
    throw new InvalidOptionError(
      'REDIS_URL (environment)',
      'a redis://, rediss:// (TLS) or unix:// URL such as redis://127.0.0.1:6379',
      maskPassword(url),
    )
  }
  return url
}

/**
 * Connects to `url` once, with no retry, and disconnects: resolves when Redis answered (password and database
 * included), else rejects with a `RedisUnavailableError` that names the host (never the password), says why, and
 * what to change. `variable` is where the URL came from, for that advice.
 */
export async function checkRedisReachable(
  url: string,
  { variable = 'REDIS_URL', timeoutMs = REDIS_CHECK_TIMEOUT_MS }: { variable?: string; timeoutMs?: number } = {},
): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectionName: 'switchyard-check',
  })
  // ioredis rejects connect() with "Connection is closed."; the cause is in the error event before it.
  let cause: Error | undefined
  client.on('error', (error: Error) => {
    cause ??= error
  })
  try {
    await client.connect()
  } catch (error) {
    const why = cause ?? (error instanceof Error ? error : new Error(String(error)))
    throw new RedisUnavailableError(
      `Redis at ${describeHost(url)} (${variable}) cannot be reached: ${why.message}; ${advice(why, variable)}`,
      { cause: why },
    )
  } finally {
    client.disconnect()
  }
}

function advice(cause: Error, variable: string): string {
  if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(cause.message)) {
    return `put the right user and password in ${variable}: redis://[user]:password@host:port`
  }
  return `start Redis there, or set ${variable} to a Redis that runs`
}

/** `redis://user:secret@host` as `redis://user:***@host`, even when malformed: a value safe to print. */
function maskPassword(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@')
}
