import { setTimeout as delay } from 'node:timers/promises'

import type { Cluster, Redis } from 'ioredis'

import { RedisUnavailableError } from '../../errors.js'
import type { RedisKeys } from './keys.js'

/** Keys per SCAN call: a hint Redis follows loosely; large enough that few round trips walk a big keyspace. */
export const SCAN_COUNT = 1000

/** What a shard's commands go through: one Redis (hosts) or the cluster client every shard of a layer shares. */
export type RedisClient = Redis | Cluster

export interface CallOptions {
  /** Safe to send again when it may have run (reads, overwrites): retried on any connection error. */
  readonly idempotent?: boolean
  /** Once aborted, a failed command is not retried, and a wait to retry ends: its caller gives up. */
  readonly signal?: AbortSignal
}

/**
 * Where a slice of the layer's keys lives: one Redis server of `hosts`, or one hash tag of a cluster (cluster-shard.ts).
 * Every key of a shard is built from its own `keys`, so a script only ever touches keys of one server, and on a
 * cluster of one hash slot. `call()` retries a command that could not be sent while the server is away, up to
 * `retryWindowMs`, then fails with `RedisUnavailableError` naming the host (never its password).
 */
export interface RedisShard {
  readonly label: string
  readonly keys: RedisKeys
  readonly commands: RedisClient
  /** A connection of its own for BZPOPMIN, to the server that holds this shard's keys. */
  readonly blocking: Redis
  /** The blocking connection's CLIENT ID, for CLIENT UNBLOCK; forgotten when that connection closes. */
  blockingId: number | undefined
  readonly errors: number
  readonly reconnects: number
  /**
   * Whether the connection its commands go to is up: with `hosts` the command connection, on a cluster the one to
   * the slot's master. A close skips a shard that is not, rather than wait for it (its entries expire).
   */
  readonly reachable: boolean
  /** Writes on this shard that fewer replicas than `waitForReplicas` asks for acknowledged in time (replica-wait.ts). */
  replicaShortfalls: number
  call<T>(command: (client: RedisClient) => Promise<T>, options?: CallOptions): Promise<T>
  /**
   * `call`, with `command` given one connection to the server holding this shard's keys (with `hosts` the command
   * connection; on a cluster the slot's master, as the cluster client holds it), for commands that must share one
   * connection: a write, and the WAIT for its replicas (replica-wait.ts).
   */
  callOnServer<T>(command: (server: Redis) => Promise<T>, options?: CallOptions): Promise<T>
  /** Resolves once the command connection is ready, or rejects with `RedisUnavailableError` at the deadline. */
  ready(timeoutMs?: number): Promise<void>
  /**
   * Waits (bounded) for the blocking connection to be ready again after `error`, following the keys if they moved;
   * after an error reply on a live connection, a short pause so the read does not spin.
   */
  blockingReady(timeoutMs: number, error?: unknown): Promise<void>
  /** Ends a blocking read of this shard's blocking connection now (CLIENT UNBLOCK on its server). */
  unblock(id: number): Promise<void>
  /** One SCAN step on the server holding this shard's keys. */
  scan(cursor: string, pattern: string, type?: 'zset'): Promise<[cursor: string, keys: string[]]>
  /**
   * Closes its connections: politely (QUIT) when it can before `deadline`, then at once. A server that does not
   * answer (frozen, or cut off without a reset) must not hold a closing process.
   */
  close(deadline: number): Promise<void>
}

/**
 * CLIENT UNBLOCK `id` on `server`, held back while that server pauses writes. Redis 7.0.15 (and every release without
 * redis/redis#14164) crashes on CLIENT UNBLOCK of a client whose blocking read a write pause postponed ("Guru
 * Meditation: Unknown btype in replyToBlockedClientTimedOut()"), and a master pauses writes during CLUSTER FAILOVER,
 * FAILOVER and CLIENT PAUSE WRITE. Queued in MULTI behind a script (which a write pause postpones), the EXEC runs only
 * once the pause is over, when no read is postponed any more; a read still to be re-issued then ends by its timeout.
 */
export async function unblockWhenUnpaused(server: Redis, id: number): Promise<void> {
  await server.multi().eval('return 0', 0).client('UNBLOCK', id).exec()
}

/**
 * Errors after which the command is known not to have run: it never reached Redis, or Redis refused it whole for a
 * passing state (a master short of the replicas `min-replicas-to-write` asks for, a replica that a failover just
 * demoted or that lost its master, a server still loading its data, a cluster without a master for a slot or in
 * the middle of moving it): worth sending again until `retryWindowMs`.
 */
export function neverSent(error: unknown): boolean {
  return (
    error instanceof Error &&
    (/Stream isn't writeable|enableOfflineQueue|Too many Cluster redirections|None of startup nodes/.test(
      error.message,
    ) ||
      refusedWhole(error))
  )
}

export function refusedWhole(error: unknown): boolean {
  return error instanceof Error && /^(NOREPLICAS|READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN) /.test(error.message)
}

/** What the unavailability error adds: why Redis refused, or that the command may have run. */
function unavailableDetail(error: unknown): string {
  if (refusedWhole(error)) return ` (it refused the command: ${(error as Error).message.split(' ')[0] ?? ''})`
  return neverSent(error) ? '' : ' (the command may or may not have run)'
}

/** How long to wait before sending a command Redis refused again: the connection is fine, the state is not yet. */
export const REFUSED_RETRY_MS = 100

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (
    neverSent(error) ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|MaxRetriesPerRequest|Reached the max retries/.test(
      `${error.name} ${error.message}`,
    )
  )
}

/**
 * Runs `command` on `client`, retrying while the server is unreachable (only if the command cannot have run, or is
 * `idempotent`) until `retryWindowMs`; `waitToRetry` waits for the connection to come back (bounded by the deadline).
 */
export async function callWithRetry<T>(
  target: { readonly label: string; readonly retryWindowMs: number; readonly client: RedisClient },
  command: (client: RedisClient) => Promise<T>,
  { idempotent = false, signal }: CallOptions,
  waitToRetry: (deadline: number) => Promise<void>,
): Promise<T> {
  const deadline = Date.now() + target.retryWindowMs
  for (;;) {
    try {
      return await command(target.client)
    } catch (error) {
      if (!isConnectionError(error)) throw error
      if ((!idempotent && !neverSent(error)) || Date.now() >= deadline || signal?.aborted === true) {
        throw new RedisUnavailableError(`Redis at ${target.label} is unavailable${unavailableDetail(error)}`, {
          cause: error,
        })
      }
      const waiting = refusedWhole(error)
        ? delay(Math.max(0, Math.min(REFUSED_RETRY_MS, deadline - Date.now())))
        : waitToRetry(deadline)
      await untilAborted(waiting, signal)
    }
  }
}

/** Settles as `waiting` does, or resolves once `signal` aborts if that comes first. */
export function untilAborted(waiting: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return waiting
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const aborted = (): void => {
      resolve()
    }
    signal.addEventListener('abort', aborted, { once: true })
    waiting.then(
      () => {
        signal.removeEventListener('abort', aborted)
        resolve()
      },
      (error: unknown) => {
        signal.removeEventListener('abort', aborted)
        reject(error)
      },
    )
  })
}

/** Resolves once `client` is ready, closed for good, or at the deadline, whichever comes first. */
export async function waitReady(client: RedisClient, deadline: number): Promise<void> {
  if (client.status === 'ready') return
  const remaining = deadline - Date.now()
  if (remaining <= 0) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('end', done)
      resolve()
    }
    const timer = setTimeout(done, remaining)
    client.once('ready', done)
    // Closed for good (close() disconnects): it will never be ready, and close() must not wait out the timer.
    client.once('end', done)
  })
}
