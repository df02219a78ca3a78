import type { ClaimedTask, TaskStatus } from '../../../tasks/task-store.js'
import { runTaskCancel } from '../scripts/task-scripts.js'
import type { RedisShard } from '../redis-shard.js'
import { byChannel } from './redis-claims.js'

/** What cancelling needs of the task store's context (`RedisTaskStoreContext`). */
export interface RedisCancellationContext {
  /** The shard holding a channel's queue (and so its task states). */
  shardFor(channel: string): RedisShard
  readonly shards: readonly RedisShard[]
}

/**
 * Cancels `taskId` (task-cancel.lua) on the shard that holds its state: the task's channel is not known from its
 * id, so each shard is tried in turn, as `getTaskState` does. Resolves to the status before, undefined if unknown.
 */
export async function cancelTask(ctx: RedisCancellationContext, taskId: string): Promise<TaskStatus | undefined> {
  for (const shard of ctx.shards) {
    // Not resent after a dropped connection: a second run would report `cancelled` instead of the status before.
    const before = await shard.call((client) => runTaskCancel(client, shard.keys, taskId, Date.now()))
    if (before !== '') return before as TaskStatus
  }
  return undefined
}

/** Of `tasks`, those whose state reads `cancelled`: one pipelined read per channel, on the channel's shard. */
export async function cancelledAmong(
  ctx: RedisCancellationContext,
  tasks: readonly ClaimedTask[],
): Promise<ClaimedTask[]> {
  const cancelled: ClaimedTask[] = []
  for (const [channel, group] of byChannel(tasks)) {
    const shard = ctx.shardFor(channel)
    const statuses = await shard.call(
      async (client) => {
        const pipeline = client.pipeline()
        for (const task of group) pipeline.hget(shard.keys.taskState(task.taskId), 'status')
        const replies = (await pipeline.exec()) ?? []
        return replies.map(([error, status]) => (error === null ? status : undefined))
      },
      { idempotent: true },
    )
    group.forEach((task, i) => {
      if (statuses[i] === 'cancelled') cancelled.push(task)
    })
  }
  return cancelled
}
