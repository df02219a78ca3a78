import type { Message } from '../../channel-layer.js'
import type { RedisShard } from '../redis-shard.js'
import { runDeadLetters, type DeadLettersArgs } from '../scripts/task-scripts.js'
import type { MessageSerializer } from '../serializer.js'
import type { DeadLetter, DeadLetterStore } from '../../../tasks/task-store.js'
import { stripRouting } from './redis-claims.js'

export interface RedisDeadLettersContext {
  /** Throws `LayerClosedError` once the layer is closed. */
  assertOpen(operation: string): void
  /** Decodes stored payloads with no age limit: a letter may be kept far longer than a message's expiry. */
  readonly serializer: MessageSerializer
  readonly options: { readonly deadLetterRetentionMs: number }
  shardFor(channel: string): RedisShard
  readonly shards: readonly RedisShard[]
}

/**
 * The dead letters of the Redis task store: per channel, a sorted set of ids by time of death and a hash per letter
 * (written by task-settle.lua when a task is buried); replaying and purging are one dead-letters.lua call each.
 */
export class RedisDeadLetters implements DeadLetterStore {
  constructor(private readonly ctx: RedisDeadLettersContext) {}

  async listDeadLetters(channel: string, { limit = 100 }: { readonly limit?: number } = {}): Promise<DeadLetter[]> {
    this.ctx.assertOpen('list dead letters')
    const shard = this.ctx.shardFor(channel)
    const ids = await shard.call((client) => client.zrevrange(shard.keys.deadLetters(channel), 0, limit - 1), {
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
    this.ctx.assertOpen('read a dead letter')
    const shard = this.ctx.shardFor(channel)
    const key = shard.keys.deadLetter(channel, id)
    const fields = await shard.call((client) => client.hgetallBuffer(key), { idempotent: true })
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
    this.ctx.assertOpen('replay dead letters')
    if (ids?.length === 0) return 0
    return this.deadLetterScript({ channel, mode: 'replay', nowMs: Date.now(), ids: ids ?? [] })
  }

  async purgeDeadLetters(
    channel: string,
    { olderThanMs, dryRun = false }: { readonly olderThanMs?: number; readonly dryRun?: boolean } = {},
  ): Promise<number> {
    this.ctx.assertOpen('purge dead letters')
    const cutoff = olderThanMs === undefined ? Number.MAX_SAFE_INTEGER : Date.now() - olderThanMs
    if (dryRun) {
      const shard = this.ctx.shardFor(channel)
      const key = shard.keys.deadLetters(channel)
      return shard.call((client) => client.zcount(key, '-inf', cutoff), { idempotent: true })
    }
    return this.deadLetterScript({ channel, mode: 'purge', cutoffMs: cutoff })
  }

  async deadLetterChannels(): Promise<string[]> {
    this.ctx.assertOpen('list dead-letter channels')
    const channels = new Set<string>()
    for (const shard of this.ctx.shards) {
      for (const channel of await shard.call((client) => client.smembers(shard.keys.deadChannels), {
        idempotent: true,
      })) {
        channels.add(channel)
      }
    }
    return [...channels].sort()
  }

  /** Deletes dead letters past `deadLetterRetentionMs` on every channel (called by workers now and then). */
  async purgeExpired(): Promise<number> {
    let purged = 0
    for (const channel of await this.deadLetterChannels()) {
      purged += await this.purgeDeadLetters(channel, { olderThanMs: this.ctx.options.deadLetterRetentionMs })
    }
    return purged
  }

  private async deadLetterScript(args: DeadLettersArgs): Promise<number> {
    const shard = this.ctx.shardFor(args.channel)
    return shard.call((client) => runDeadLetters(client, shard.keys, args), { idempotent: true })
  }
}
