import type { Redis } from 'ioredis'

import { InvalidOptionError, RedisUnavailableError } from '../../errors.js'
import { positiveInteger } from '../option-values.js'
import type { CallOptions, RedisClient, RedisShard } from './redis-shard.js'

/** What a replicated connection reports to: its shard's label (for errors) and shortfall counter. */
type ShardOfConnection = Pick<RedisShard, 'label' | 'replicaShortfalls'>

/**
 * The layer option `waitForReplicas`: a write that carries a task (a send to a named channel, a delayed send, a
 * worker's settlement) resolves only once this many replicas have it, within `timeoutMs`.
 */
export interface ReplicaWaitOptions {
  /** Replicas that must acknowledge each such write (Redis' `WAIT numreplicas`). */
  readonly replicas: number
  /**
   * How long a write waits for them before failing with `RedisUnavailableError` (WAIT's timeout).
   * @defaultValue 1_000
   */
  readonly timeoutMs?: number
}

/** `waitForReplicas` as the layer uses it. */
export interface ReplicaWait {
  readonly replicas: number
  readonly timeoutMs: number
}

export function resolveReplicaWait(value: unknown): ReplicaWait | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(
      'waitForReplicas',
      '{ replicas: a positive integer, timeoutMs: a positive integer }',
      value,
    )
  }
  const { replicas, timeoutMs, ...unknown } = value as { replicas?: unknown; timeoutMs?: unknown }
  // A misspelt `timeout` must not leave the default in force unnoticed.
  for (const [key, given] of Object.entries(unknown)) {
    throw new InvalidOptionError(`waitForReplicas.${key}`, 'absent (unknown option)', given)
  }
  if (replicas === undefined) throw new InvalidOptionError('waitForReplicas.replicas', 'a positive integer', replicas)
  return Object.freeze({
    replicas: positiveInteger('waitForReplicas.replicas', replicas, 1),
    // WAIT 0 would wait for ever: a write must fail in bounded time (at worst, while no replica is connected).
    timeoutMs: positiveInteger('waitForReplicas.timeoutMs', timeoutMs, 1_000),
  })
}

/**
 * A write that ran, but reached fewer replicas than `waitForReplicas` asks for in time: `RedisUnavailableError` (its
 * code and name) carrying the write's reply, so that a caller can undo what the write took (a settle call's claims).
 */
export class ReplicaShortfallError extends RedisUnavailableError {
  constructor(
    message: string,
    readonly reply: unknown,
  ) {
    super(message)
  }
}

/**
 * One connection to the server that holds a shard's keys, with the replicas its writes must reach: a script run
 * through it is followed, in the same tick and so on the same connection, by `WAIT`. Redis answers WAIT once the
 * replicas have every write that connection made before it, so the script's reply is only used once they have it.
 * Issued in one tick, the two are written together, or fail together, or (a cluster node's connection queues while it
 * reconnects) wait and go out together: WAIT never goes out alone on a new connection, where it would count replicas
 * for writes that connection never made.
 */
export class ReplicatedConnection {
  constructor(
    private readonly server: Redis,
    private readonly wait: ReplicaWait,
    private readonly shard: ShardOfConnection,
  ) {}

  /** EVALSHA or EVAL of `script` with its keys and arguments, then WAIT; resolves to the script's reply. */
  async run(
    command: 'EVALSHA' | 'EVAL',
    script: string,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
    buffer: boolean,
  ): Promise<unknown> {
    const { server, wait } = this
    const reply = buffer
      ? server.callBuffer(command, script, keys.length, ...keys, ...args)
      : server.call(command, script, keys.length, ...keys, ...args)
    const acknowledged = server.call('WAIT', wait.replicas, wait.timeoutMs)
    // Both settle before this returns (Promise.all handles the second rejection when both fail).
    const [result, count] = await Promise.all([reply, acknowledged])
    if (typeof count !== 'number' || count < wait.replicas) {
      this.shard.replicaShortfalls++
      throw new ReplicaShortfallError(
        `Redis at ${this.shard.label} ran the write, but ${String(count)} of the ${wait.replicas} replicas ` +
          `\`waitForReplicas\` asks for acknowledged it within ${wait.timeoutMs} ms: a failover before it reaches ` +
          'one would lose it (send again with the same idempotencyKey; a worker sends its settlements again)',
        result,
      )
    }
    return result
  }
}

/** What a script runs on: a client (`call`), or one connection whose writes wait for replicas (`callReplicated`). */
export type ScriptTarget = RedisClient | ReplicatedConnection

/**
 * `shard.call(command)`, or with `wait`, the command on one connection to the shard's server whose scripts each wait
 * for that many replicas (`ReplicatedConnection`). A shortfall fails with `RedisUnavailableError`, not retried: the
 * write ran, so only its caller knows whether sending it again is safe.
 */
export function callReplicated<T>(
  shard: RedisShard,
  wait: ReplicaWait | undefined,
  command: (target: ScriptTarget) => Promise<T>,
  options?: CallOptions,
): Promise<T> {
  if (wait === undefined) return shard.call(command, options)
  return shard.callOnServer((server) => command(new ReplicatedConnection(server, wait, shard)), options)
}
