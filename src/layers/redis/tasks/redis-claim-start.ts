import { createHash } from 'node:crypto'

import { MessageDecodeError } from '../../../errors.js'
import type { Logger } from '../../../logger.js'
import type { ClaimedTask, TaskFailure, TaskStoreOptions } from '../../../tasks/task-store.js'
import type { Message } from '../../channel-layer.js'
import type { RedisShard } from '../redis-shard.js'
import { runTaskStart } from '../scripts/task-scripts.js'
import type { MessageSerializer } from '../serializer.js'
import { packFields } from './packed-fields.js'
import { CLAIM_TOKEN_BYTES, type Mutable, stripRouting, taskIdOf } from './redis-claims.js'

/** What starting claims needs of the task store's context (`RedisTaskStoreContext`). */
export interface ClaimStartContext {
  readonly serializer: MessageSerializer
  readonly options: TaskStoreOptions
  readonly log: Logger
  shardFor(channel: string): RedisShard
}

/** What starting claims asks of the store: burying an undecodable one, dropping cancelled ones. */
export interface ClaimStartHooks {
  bury(task: ClaimedTask, failure: TaskFailure): Promise<void>
  drop(tasks: readonly ClaimedTask[]): Promise<void>
}

/**
 * Decodes fresh claims (three fields each, see task-settle.lua) and records the start of the attempts the
 * claiming call could not start itself (task-start.lua), in queue order. Undecodable payloads go to the dead
 * letters; tasks found cancelled at their start are dropped, not returned.
 */
export async function startClaims(
  ctx: ClaimStartContext,
  channel: string,
  fields: readonly Buffer[],
  now: number,
  hooks: ClaimStartHooks,
): Promise<ClaimedTask[]> {
  const claimed: Mutable<ClaimedTask>[] = []
  const unstarted: Mutable<ClaimedTask>[] = []
  for (let i = 0; i + 2 < fields.length; i += 3) {
    const claim = fields[i] as Buffer
    const stored = claim.subarray(CLAIM_TOKEN_BYTES)
    let message: Message
    try {
      message = ctx.serializer.decode(stored) as Message
    } catch (error) {
      await buryUndecodable(ctx, channel, claim, error, hooks)
      continue
    }
    const taskId = taskIdOf(message, stored)
    const startedAs = fields[i + 1]?.toString() ?? ''
    const meta = (fields[i + 2]?.toString() ?? '').split(' ')
    const [attempt = '1', firstAttemptAt = '0', alreadySucceeded = '0', expired = '0'] = meta
    const task: Mutable<ClaimedTask> = {
      channel,
      payload: claim,
      message: stripRouting(message),
      taskId,
      attempt: Number(attempt),
      firstAttemptAt: Number(firstAttemptAt),
      alreadySucceeded: alreadySucceeded === '1',
      ...(expired === '1' ? { expired: true as const } : {}),
    }
    claimed.push(task)
    if (startedAs === taskId || task.expired === true) continue
    if (startedAs !== '') {
      // The script read another id than the codec did: never expected; start it under the codec's id.
      ctx.log.error({ channel, taskId, startedAs }, 'task id read by task-settle.lua differs; starting again')
    }
    unstarted.push(task)
  }
  if (unstarted.length === 0) return claimed
  const ids = packFields(unstarted.map((task) => task.taskId))
  const shard = ctx.shardFor(channel)
  const started = await shard.call((client) =>
    runTaskStart(client, shard.keys, {
      channel,
      nowMs: now,
      taskStateRetentionMs: ctx.options.taskStateRetentionMs,
      ids,
    }),
  )
  unstarted.forEach((task, i) => {
    task.attempt = started[i]?.attempt ?? 1
    task.firstAttemptAt = started[i]?.firstAttemptAt ?? now
    task.alreadySucceeded = started[i]?.alreadySucceeded ?? false
  })
  const cancelled = unstarted.filter((_task, i) => started[i]?.cancelled === true)
  if (cancelled.length === 0) return claimed
  await hooks.drop(cancelled)
  return claimed.filter((task) => !cancelled.includes(task))
}

/** A payload nobody can decode (wrong keys, corrupt) is kept as a dead letter, never dropped silently. */
async function buryUndecodable(
  ctx: ClaimStartContext,
  channel: string,
  payload: Buffer,
  error: unknown,
  hooks: ClaimStartHooks,
): Promise<void> {
  const taskId = createHash('sha1').update(payload.subarray(CLAIM_TOKEN_BYTES)).digest('hex').slice(0, 32)
  const failure = error instanceof MessageDecodeError ? error.message : 'the payload could not be decoded'
  ctx.log.error({ channel, taskId, code: 'SWY_MESSAGE_DECODE' }, 'undecodable task moved to dead letters')
  await hooks.bury(
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
