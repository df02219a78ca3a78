import { createHash, randomBytes, randomUUID } from 'node:crypto'

import { MessageDecodeError } from '../errors.js'
import type { Message } from '../layers/channel-layer.js'
import type { RedisKeys } from '../layers/redis/keys.js'
import { SCRIPTS } from '../layers/redis/lua-script.js'
import type { RedisShard } from '../layers/redis/redis-shard.js'
import type { MessageSerializer } from '../layers/redis/serializer.js'
import type { Logger } from '../logger.js'
import type { ServerSnapshot, WorkerSnapshot } from '../monitoring/snapshot.js'
import type {
  ClaimedTask,
  DeadLetter,
  TaskFailure,
  TaskState,
  TaskStatus,
  TaskStore,
  TaskStoreOptions,
  WorkerReport,
} from './task-store.js'
import { serverSnapshot, WORKER_FORGET_AFTER_MS, workerSnapshot, type ServerReport } from './task-store.js'

/** Each claim is a 16-byte token followed by the stored payload (see task-claim.lua). */
const CLAIM_TOKEN_BYTES = 16

export interface RedisTaskStoreContext {
  readonly keys: RedisKeys
  /** Decodes stored payloads with no age limit: a task may wait in retries far longer than a message's expiry. */
  readonly serializer: MessageSerializer
  readonly options: TaskStoreOptions
  readonly log: Logger
  /** Message expiry of the layer, ms: a claim drops queued messages older than this. */
  readonly expiryMs: number
  /** Called with the number of expired messages a claim dropped (the layer counts them). */
  onExpired(count: number): void
  /** The shard holding a channel's queue (and so its task bookkeeping). */
  shardFor(channel: string): RedisShard
  /** Every shard (task states and dead-letter indexes are looked up on each). */
  readonly shards: readonly RedisShard[]
}

/**
 * At-least-once tasks on Redis: the channel's queue stays channels_redis' sorted set (so Django's `send` feeds
 * it), and every state change is one Lua script (`task-*.lua`), so a worker killed at any instant leaves each
 * message either queued, in flight (recovered after its deadline) or done.
 */
export class RedisTaskStore implements TaskStore {
  constructor(private readonly ctx: RedisTaskStoreContext) {}

  get options(): TaskStoreOptions {
    return this.ctx.options
  }

  async claim(channel: string, max: number, visibilityMs: number): Promise<ClaimedTask[]> {
    const { keys } = this.ctx
    const shard = this.ctx.shardFor(channel)
    const now = Date.now()
    const [expired, ...payloads] = (await shard.call((client) =>
      SCRIPTS.taskClaim.runBuffer(
        client,
        [keys.queue(channel), keys.inflight(channel), keys.delayed(channel), keys.delayedIndex],
        [now, max, now + visibilityMs, channel, String(this.ctx.expiryMs / 1000), randomBytes(CLAIM_TOKEN_BYTES - 2)],
      ),
    )) as unknown[]
    if (typeof expired === 'number' && expired > 0) this.ctx.onExpired(expired)
    const claimed: { payload: Buffer; message: Message; taskId: string }[] = []
    for (const raw of payloads) {
      const claim = toBuffer(raw)
      const stored = claim.subarray(CLAIM_TOKEN_BYTES)
      let message: Message
      try {
        message = this.ctx.serializer.decode(stored) as Message
      } catch (error) {
        await this.buryUndecodable(channel, claim, error)
        continue
      }
      claimed.push({ payload: claim, message: stripRouting(message), taskId: taskIdOf(message, stored) })
    }
    if (claimed.length === 0) return []
    const started = (await shard.call((client) =>
      SCRIPTS.taskStart.run(
        client,
        claimed.map((task) => keys.taskState(task.taskId)),
        [now, this.ctx.options.taskStateRetentionMs, channel, ...claimed.map((task) => task.taskId)],
      ),
    )) as number[]
    return claimed.map((task, i) => ({
      channel,
      ...task,
      attempt: started[i * 3] ?? 1,
      firstAttemptAt: started[i * 3 + 1] ?? now,
      alreadySucceeded: started[i * 3 + 2] === 1,
    }))
  }

  async ack(task: ClaimedTask, options: { readonly result?: unknown } = {}): Promise<void> {
    const result = options.result === undefined ? '' : JSON.stringify(options.result)
    await this.finish(task, 'ack', '', result)
  }

  async retry(task: ClaimedTask, delayMs: number, failure: TaskFailure): Promise<void> {
    await this.finish(task, 'retry', failure.error, String(Date.now() + delayMs))
  }

  async bury(task: ClaimedTask, failure: TaskFailure): Promise<void> {
    await this.finish(task, 'bury', failure.error, failure.stack ?? '')
  }

  async extend(tasks: readonly ClaimedTask[], visibilityMs: number): Promise<void> {
    const deadline = Date.now() + visibilityMs
    for (const [channel, group] of byChannel(tasks)) {
      await this.ctx
        .shardFor(channel)
        .call(
          (client) =>
            SCRIPTS.taskExtend.run(
              client,
              [this.ctx.keys.inflight(channel), this.ctx.keys.stalled(channel)],
              [deadline, ...group.map((task) => task.payload)],
            ),
          { idempotent: true },
        )
    }
  }

  async release(tasks: readonly ClaimedTask[]): Promise<void> {
    for (const [channel, group] of byChannel(tasks)) {
      await this.requeue(
        channel,
        'release',
        group.flatMap((task) => [task.payload, task.taskId]),
      )
    }
  }

  async recoverStalled(channel: string, graceMs = 0): Promise<number> {
    return this.requeue(channel, 'stalled', [String(graceMs)])
  }

  async getTaskState(taskId: string): Promise<TaskState | undefined> {
    for (const shard of this.ctx.shards) {
      const fields = await shard.call((client) => client.hgetall(this.ctx.keys.taskState(taskId)), { idempotent: true })
      if (fields.status === undefined) continue
      const state: TaskState = {
        taskId,
        channel: fields.channel ?? '',
        status: fields.status as TaskStatus,
        attempts: Number(fields.attempts ?? 0),
        updatedAt: Number(fields.updatedAt ?? 0),
        ...(fields.firstAttemptAt === undefined ? {} : { firstAttemptAt: Number(fields.firstAttemptAt) }),
        ...(fields.lastError === undefined || fields.lastError === '' ? {} : { lastError: fields.lastError }),
        ...(fields.result === undefined ? {} : { result: JSON.parse(fields.result) as unknown }),
      }
      return state
    }
    return undefined
  }

  async listDeadLetters(channel: string, { limit = 100 }: { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    const { keys } = this.ctx
    const shard = this.ctx.shardFor(channel)
    const ids = await shard.call((client) => client.zrevrange(keys.deadLetters(channel), 0, limit - 1), {
      idempotent: true,
    })
    const letters: DeadLetter[] = []
    for (const id of ids) {
      const letter = await this.getDeadLetter(channel, id)
      if (letter !== undefined) letters.push(letter)
    }
    return letters
  }

  async getDeadLetter(channel: string, id: string): Promise<DeadLetter | undefined> {
    const key = this.ctx.keys.deadLetter(channel, id)
    const fields = await this.ctx.shardFor(channel).call((client) => client.hgetallBuffer(key), { idempotent: true })
    const payload = fields.payload
    if (payload === undefined) return undefined
    const text = (name: string): string => fields[name]?.toString('utf8') ?? ''
    let message: Message
    try {
      message = stripRouting(this.ctx.serializer.decode(payload) as Message)
    } catch {
      message = { type: 'switchyard.undecodable', bytes: new Uint8Array(payload) }
    }
    return {
      id,
      channel,
      taskId: text('taskId'),
      message,
      error: text('error'),
      ...(text('stack') === '' ? {} : { stack: text('stack') }),
      attempts: Number(text('attempts')),
      firstAttemptAt: Number(text('firstAttemptAt')),
      diedAt: Number(text('diedAt')),
    }
  }

  async replayDeadLetters(channel: string, ids?: readonly string[]): Promise<number> {
    if (ids?.length === 0) return 0
    return this.deadLetterScript(channel, 'replay', Date.now(), ids ?? [])
  }

  async purgeDeadLetters(
    channel: string,
    { olderThanMs, dryRun = false }: { readonly olderThanMs?: number; readonly dryRun?: boolean } = {},
  ): Promise<number> {
    const cutoff = olderThanMs === undefined ? Number.MAX_SAFE_INTEGER : Date.now() - olderThanMs
    if (dryRun) {
      const key = this.ctx.keys.deadLetters(channel)
      return this.ctx.shardFor(channel).call((client) => client.zcount(key, '-inf', cutoff), { idempotent: true })
    }
    return this.deadLetterScript(channel, 'purge', cutoff, [])
  }

  async deadLetterChannels(): Promise<string[]> {
    const channels = new Set<string>()
    for (const shard of this.ctx.shards) {
      for (const channel of await shard.call((client) => client.smembers(this.ctx.keys.deadChannels), {
        idempotent: true,
      })) {
        channels.add(channel)
      }
    }
    return [...channels].sort()
  }

  /** Deletes dead letters past `deadLetterRetentionMs` on every channel (called by workers now and then). */
  async purgeExpiredDeadLetters(): Promise<number> {
    let purged = 0
    for (const channel of await this.deadLetterChannels()) {
      purged += await this.purgeDeadLetters(channel, { olderThanMs: this.ctx.options.deadLetterRetentionMs })
    }
    return purged
  }

  async reportWorker(report: WorkerReport): Promise<void> {
    const entry = JSON.stringify({ report, beatAt: Date.now() })
    await this.ctx
      .shardFor(report.channel)
      .call((client) => client.hset(this.ctx.keys.workers, report.id, entry), { idempotent: true })
  }

  async listWorkers(): Promise<WorkerSnapshot[]> {
    const entries = await this.readRegistry(this.ctx.keys.workers)
    const now = Date.now()
    return entries.map(({ report, beatAt }) => workerSnapshot(report as WorkerReport, beatAt, now))
  }

  async forgetWorker(id: string): Promise<void> {
    await this.forgetEntry(this.ctx.keys.workers, id)
  }

  async reportServer(report: ServerReport): Promise<void> {
    const entry = JSON.stringify({ report, beatAt: Date.now() })
    // Any shard will do: listServers reads them all. The first keeps one process's entry in one place.
    const shard = this.ctx.shards[0]
    await shard?.call((client) => client.hset(this.ctx.keys.servers, report.id, entry), { idempotent: true })
  }

  async listServers(): Promise<ServerSnapshot[]> {
    const entries = await this.readRegistry(this.ctx.keys.servers)
    const now = Date.now()
    return entries.map(({ report, beatAt }) => serverSnapshot(report as ServerReport, beatAt, now))
  }

  async forgetServer(id: string): Promise<void> {
    await this.forgetEntry(this.ctx.keys.servers, id)
  }

  /** A registry's entries on every shard (dropping those older than an hour), one per id, sorted by id. */
  private async readRegistry(key: string): Promise<RegistryEntry[]> {
    const entries = new Map<string, RegistryEntry>()
    for (const shard of this.ctx.shards) {
      const flat = (await shard.call(
        (client) => SCRIPTS.workers.run(client, [key], [Date.now() - WORKER_FORGET_AFTER_MS]),
        { idempotent: true },
      )) as string[]
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const entry = parseRegistryEntry(flat[i + 1] ?? '')
        if (entry !== undefined) entries.set(entry.report.id, entry)
      }
    }
    return [...entries.values()].sort((a, b) => (a.report.id < b.report.id ? -1 : a.report.id > b.report.id ? 1 : 0))
  }

  private async forgetEntry(key: string, id: string): Promise<void> {
    for (const shard of this.ctx.shards) {
      await shard.call((client) => client.hdel(key, id), { idempotent: true })
    }
  }

  private async finish(
    task: ClaimedTask,
    action: 'ack' | 'retry' | 'bury',
    error: string,
    extra: string,
  ): Promise<void> {
    const { keys, options } = this.ctx
    const channel = task.channel
    const deadId = action === 'bury' ? randomUUID() : ''
    const held = (await this.ctx.shardFor(channel).call(
      (client) =>
        SCRIPTS.taskFinish.run(
          client,
          [
            keys.inflight(channel),
            keys.stalled(channel),
            keys.taskState(task.taskId),
            keys.delayed(channel),
            keys.delayedIndex,
            keys.deadLetters(channel),
            keys.deadLetter(channel, deadId),
            keys.deadChannels,
          ],
          [
            action,
            task.payload,
            Date.now(),
            options.taskStateRetentionMs,
            channel,
            error,
            extra,
            deadId,
            options.deadLetterCapacity,
          ],
        ),
      // An ack or retry that may have run already is safe to repeat: the script checks the claim first.
      { idempotent: action !== 'bury' },
    )) as number
    if (held === 0 && action !== 'ack') {
      this.ctx.log.warn(
        { channel, taskId: task.taskId, action },
        'claim was lost (recovered as stalled); not repeating',
      )
    }
  }

  private async requeue(channel: string, mode: 'release' | 'stalled', args: (Buffer | string)[]): Promise<number> {
    const { keys } = this.ctx
    return (await this.ctx
      .shardFor(channel)
      .call((client) =>
        SCRIPTS.taskRequeue.run(
          client,
          [keys.inflight(channel), keys.stalled(channel), keys.queue(channel)],
          [mode, Date.now(), keys.taskStatePrefix, ...args],
        ),
      )) as number
  }

  private async deadLetterScript(
    channel: string,
    mode: 'replay' | 'purge',
    time: number,
    ids: readonly string[],
  ): Promise<number> {
    const { keys } = this.ctx
    return (await this.ctx
      .shardFor(channel)
      .call(
        (client) =>
          SCRIPTS.deadLetters.run(
            client,
            [keys.deadLetters(channel), keys.queue(channel), keys.deadChannels],
            [mode, time, keys.taskStatePrefix, channel, ...ids],
          ),
        { idempotent: true },
      )) as number
  }

  /** A payload nobody can decode (wrong keys, corrupt) is kept as a dead letter, never dropped silently. */
  private async buryUndecodable(channel: string, payload: Buffer, error: unknown): Promise<void> {
    const taskId = createHash('sha1').update(payload.subarray(CLAIM_TOKEN_BYTES)).digest('hex').slice(0, 32)
    const failure = error instanceof MessageDecodeError ? error.message : 'the payload could not be decoded'
    this.ctx.log.error({ channel, taskId, code: 'SWY_MESSAGE_DECODE' }, 'undecodable task moved to dead letters')
    await this.bury(
      {
        channel,
        payload,
        message: { type: 'switchyard.undecodable' },
        taskId,
        attempt: 1,
        firstAttemptAt: Date.now(),
        alreadySucceeded: false,
      },
      { error: failure },
    )
  }
}

/** The task id: the message's own `idempotencyKey`, else a stable hash of its stored bytes. */
export function taskIdOf(message: Message, payload: Buffer): string {
  const key = message.idempotencyKey
  if (typeof key === 'string' && key !== '') return key
  return createHash('sha1').update(payload).digest('hex').slice(0, 32)
}

/** A registry entry, or undefined when it is not one (written by something else): it is then skipped. */
interface RegistryEntry {
  /** A WorkerReport or a ServerReport, as its writer stored it. */
  readonly report: { readonly id: string }
  readonly beatAt: number
}

function parseRegistryEntry(json: string): RegistryEntry | undefined {
  try {
    const parsed = JSON.parse(json) as { report?: { id?: unknown }; beatAt?: unknown }
    const report = parsed.report
    if (typeof parsed.beatAt !== 'number' || typeof report !== 'object' || typeof report.id !== 'string') {
      return undefined
    }
    return { report: { ...report, id: report.id }, beatAt: parsed.beatAt }
  } catch {
    return undefined
  }
}

function stripRouting(message: Message): Message {
  if (!Object.hasOwn(message, '__asgi_channel__')) return message
  const { __asgi_channel__: _routing, ...rest } = message
  return rest
}

function toBuffer(raw: unknown): Buffer {
  if (Buffer.isBuffer(raw)) return raw
  throw new TypeError('expected a binary reply from task-claim.lua')
}

function byChannel(tasks: readonly ClaimedTask[]): Map<string, ClaimedTask[]> {
  const groups = new Map<string, ClaimedTask[]>()
  for (const task of tasks) {
    const group = groups.get(task.channel)
    if (group === undefined) groups.set(task.channel, [task])
    else group.push(task)
  }
  return groups
}
