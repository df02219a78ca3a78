import type { ScheduleSpec } from '../../../tasks/schedules/schedule-options.js'
import type { ScheduleRecords, StoredSchedule } from '../../../tasks/schedules/schedule-store.js'
import type { RedisKeys } from '../keys.js'
import type { RedisShard } from '../redis-shard.js'
import { runScheduleClaim, runSchedulePut, runScheduleRemove } from '../scripts/schedule-scripts.js'
import type { RedisClient } from '../redis-shard.js'

export interface RedisSchedulesContext {
  /** Every shard: schedules live on the first, so one sorted set orders them all. */
  readonly shards: readonly RedisShard[]
}

/**
 * Schedules on Redis (issue 17), so they survive restarts: a hash per schedule and one sorted set of ids by next
 * run. Each change is one script (schedule-*.lua); claiming a tick is schedule-claim.lua's compare-and-set.
 */
export class RedisSchedules implements ScheduleRecords {
  constructor(private readonly ctx: RedisSchedulesContext) {}

  async put(id: string, spec: ScheduleSpec, nextRunMs: number): Promise<void> {
    const { keys } = this
    await this.call((client) => runSchedulePut(client, keys, { id, spec: JSON.stringify(spec), nextRunMs }), true)
  }

  remove(id: string): Promise<boolean> {
    return this.call((client) => runScheduleRemove(client, this.keys, id), false)
  }

  async list(): Promise<StoredSchedule[]> {
    return this.read((client) => client.zrange(this.keys.schedules, '0', '-1'))
  }

  async due(nowMs: number, limit: number): Promise<StoredSchedule[]> {
    return this.read((client) => client.zrangebyscore(this.keys.schedules, '-inf', String(nowMs), 'LIMIT', 0, limit))
  }

  advance(id: string, expectedNextRunMs: number, nextRunMs: number, firedMs: number | undefined): Promise<boolean> {
    // Not resent on a lost reply: a claim that ran would then read as lost and its tick would not be sent.
    return this.call(
      (client) => runScheduleClaim(client, this.keys, { id, expectedNextRunMs, nextRunMs, firedMs }),
      false,
    )
  }

  async earliest(): Promise<number | undefined> {
    const first = await this.call((client) => client.zrange(this.keys.schedules, '0', '0', 'WITHSCORES'), true)
    return first[1] === undefined ? undefined : Number(first[1])
  }

  /** The schedules whose ids `ids` reads, in that order (one removed meanwhile is left out). */
  private async read(ids: (client: RedisClient) => Promise<string[]>): Promise<StoredSchedule[]> {
    const { keys } = this
    return this.call(async (client) => {
      const found = await ids(client)
      if (found.length === 0) return []
      const pipeline = client.pipeline()
      for (const id of found) pipeline.hgetall(keys.schedule(id))
      const replies = (await pipeline.exec()) ?? []
      const schedules: StoredSchedule[] = []
      found.forEach((id, i) => {
        const [error, fields] = replies[i] ?? []
        if (error) throw error
        const hash = fields as Record<string, string | undefined>
        if (hash.spec === undefined || hash.nextRunMs === undefined) return
        schedules.push({
          id,
          spec: JSON.parse(hash.spec) as ScheduleSpec,
          nextRunMs: Number(hash.nextRunMs),
          lastRunMs: hash.lastRunMs === undefined ? undefined : Number(hash.lastRunMs),
        })
      })
      return schedules
    }, true)
  }

  private call<T>(command: (client: RedisClient) => Promise<T>, idempotent: boolean): Promise<T> {
    return this.shard.call(command, { idempotent })
  }

  private get shard(): RedisShard {
    const shard = this.ctx.shards[0]
    if (shard === undefined) throw new Error('a Redis layer has at least one shard')
    return shard
  }

  private get keys(): RedisKeys {
    return this.shard.keys
  }
}
