// Typed wrappers of the task scripts: task-declare.lua, task-settle.lua, task-start.lua, task-extend.lua,
// task-requeue.lua, dead-letters.lua and workers.lua. Each builds KEYS from keys.ts and KEYS and ARGV in the order
// its script's header states.

import type { RedisKeys } from '../keys.js'
import { SCRIPTS } from '../lua-script.js'
import type { RedisClient } from '../redis-shard.js'
import type { ScriptTarget } from '../replica-wait.js'

/** task-declare.lua: makes `channel` a task channel for every process on the prefix. */
export async function runTaskDeclare(client: RedisClient, keys: RedisKeys, channel: string): Promise<void> {
  await SCRIPTS.taskDeclare.run(client, [keys.taskChannel(channel), keys.queue(channel)], [])
}

/** task-rate-wait.lua: ms until `channel`'s rate limit lets a claim start a task (0: now, or no limit). */
export async function runTaskRateWait(client: RedisClient, keys: RedisKeys, channel: string): Promise<number> {
  return Number(await SCRIPTS.taskRateWait.run(client, [keys.rateLimit(channel), keys.rateWindow(channel)], []))
}

export interface TaskSettleArgs {
  readonly channel: string
  readonly nowMs: number
  readonly taskStateRetentionMs: number
  /** Dead letters kept per channel. */
  readonly deadLetterCapacity: number
  /** Most messages to claim (0: settle only). */
  readonly max: number
  readonly claimDeadlineMs: number
  /** taskExpiryMs in seconds, or '' for none. */
  readonly taskExpirySeconds: string
  /** 14 random bytes for the claims' tokens; '' when claiming nothing. */
  readonly claimToken: Buffer | ''
  /** The settlements, packed (packed-fields.ts), six fields each. */
  readonly settlements: Buffer
  /** The random prefix length of plain msgpack payloads, or -1. */
  readonly plainPrefixBytes: number
}

export interface TaskSettleReply {
  /** Per settlement: 1 if it still held its claim (always 1 for an ack). */
  readonly held: readonly number[]
  /** Claims flagged expired. */
  readonly expired: number
  /** The claims, packed, three fields each (see task-settle.lua). */
  readonly claims: Buffer
  /** The flow steps this call ended: their tags and outbox scores (flow-outbox.lua removes them by both). */
  readonly flowSteps: readonly FlowOutboxEntry[]
}

/** A flow outbox entry: a step tag and the score it was read with. */
export interface FlowOutboxEntry {
  readonly tag: string
  readonly score: string
}

/** task-settle.lua: ends attempts, then claims up to `max` more messages of the channel. */
export async function runTaskSettle(
  client: ScriptTarget,
  keys: RedisKeys,
  args: TaskSettleArgs,
): Promise<TaskSettleReply> {
  const { channel } = args
  const reply = await SCRIPTS.taskSettle.runBuffer(
    client,
    [
      keys.queue(channel),
      keys.inflight(channel),
      keys.stalled(channel),
      keys.delayed(channel),
      keys.delayedIndex,
      keys.deadLetters(channel),
      keys.deadChannels,
      keys.taskChannel(channel),
      keys.wake(channel),
      keys.rateLimit(channel),
      keys.rateWindow(channel),
      keys.flowOutbox,
    ],
    [
      args.nowMs,
      args.taskStateRetentionMs,
      channel,
      args.deadLetterCapacity,
      args.max,
      args.claimDeadlineMs,
      args.taskExpirySeconds,
      args.claimToken,
      keys.taskStatePrefix,
      args.settlements,
      args.plainPrefixBytes,
      keys.deadLetterPrefix(channel),
    ],
  )
  return taskSettleReply(reply)
}

/** task-settle.lua's reply, read: what `runTaskSettle` resolves to, and what a `ReplicaShortfallError` carries. */
export function taskSettleReply(reply: unknown): TaskSettleReply {
  const [held, expired, claims, flows] = reply as [number[], number, Buffer, Buffer[]]
  return { held, expired, claims, flowSteps: outboxEntries(flows) }
}

/** What task-start.lua says of one task. */
export interface StartedTask {
  readonly attempt: number
  readonly firstAttemptAt: number
  readonly alreadySucceeded: boolean
  /** Cancelled before it started (task-cancel.lua): not started; its claim is to be dropped. */
  readonly cancelled: boolean
}

/** task-start.lua: records the start of an attempt for each task id (packed), on the channel's shard. */
export async function runTaskStart(
  client: RedisClient,
  keys: RedisKeys,
  args: {
    readonly channel: string
    readonly nowMs: number
    readonly taskStateRetentionMs: number
    readonly ids: Buffer
  },
): Promise<StartedTask[]> {
  const flat = (await SCRIPTS.taskStart.run(
    client,
    [keys.queue(args.channel)],
    [args.nowMs, args.taskStateRetentionMs, args.channel, keys.taskStatePrefix, args.ids],
  )) as number[]
  const started: StartedTask[] = []
  for (let i = 0; i + 2 < flat.length; i += 3) {
    started.push({
      attempt: flat[i] as number,
      firstAttemptAt: flat[i + 1] as number,
      alreadySucceeded: flat[i + 2] === 1,
      cancelled: flat[i + 2] === 2,
    })
  }
  return started
}

/** task-extend.lua: pushes the deadline of the claims (payloads) still held; resolves how many. */
export async function runTaskExtend(
  client: RedisClient,
  keys: RedisKeys,
  args: { readonly channel: string; readonly deadlineMs: number; readonly claims: readonly Buffer[] },
): Promise<number> {
  const { channel } = args
  return (await SCRIPTS.taskExtend.run(
    client,
    [keys.inflight(channel), keys.stalled(channel), keys.queue(channel)],
    [args.deadlineMs, ...args.claims],
  )) as number
}

export type TaskRequeueArgs = { readonly channel: string; readonly nowMs: number } & (
  | {
      readonly mode: 'release'
      readonly claims: readonly { readonly claim: Buffer; readonly taskId: string }[]
    }
  | { readonly mode: 'stalled'; readonly graceMs: number }
)

/** task-requeue.lua: puts claims back on the queue (released, or stalled); resolves how many. */
export async function runTaskRequeue(client: RedisClient, keys: RedisKeys, args: TaskRequeueArgs): Promise<number> {
  const { channel } = args
  const tail =
    args.mode === 'release' ? args.claims.flatMap(({ claim, taskId }) => [claim, taskId]) : [String(args.graceMs)]
  return (await SCRIPTS.taskRequeue.run(
    client,
    [keys.inflight(channel), keys.stalled(channel), keys.queue(channel), keys.wake(channel)],
    [args.mode, args.nowMs, keys.taskStatePrefix, ...tail],
  )) as number
}

export type DeadLettersArgs = { readonly channel: string } & (
  | { readonly mode: 'replay'; readonly nowMs: number; readonly ids: readonly string[] }
  | { readonly mode: 'purge'; readonly cutoffMs: number }
)

/** dead-letters.lua: replays the given dead letters (all when none), or purges those that died by a cutoff. */
export async function runDeadLetters(client: RedisClient, keys: RedisKeys, args: DeadLettersArgs): Promise<number> {
  const { channel } = args
  const [time, ids] = args.mode === 'replay' ? [args.nowMs, args.ids] : [args.cutoffMs, []]
  return (await SCRIPTS.deadLetters.run(
    client,
    [keys.deadLetters(channel), keys.queue(channel), keys.deadChannels, keys.wake(channel)],
    [args.mode, time, keys.taskStatePrefix, channel, keys.deadLetterPrefix(channel), ...ids],
  )) as number
}

/**
 * workers.lua: a registry's entries (`keys.workers` or `keys.servers`) as [id, JSON] pairs, dropping those that
 * last reported before `cutoffMs`.
 */
export async function runWorkers(
  client: RedisClient,
  args: { readonly registry: string; readonly cutoffMs: number },
): Promise<[id: string, json: string][]> {
  const flat = (await SCRIPTS.workers.run(client, [args.registry], [args.cutoffMs])) as string[]
  const entries: [string, string][] = []
  for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i] ?? '', flat[i + 1] ?? ''])
  return entries
}

/** A task never sent, to record as cancelled (a flow step; task-cancel.lua's ARGV[2..4]). */
export interface UnsentTask {
  readonly channel: string
  readonly taskId: string
  readonly retentionMs: number
}

/**
 * task-cancel.lua: cancels the task `taskId`; resolves its status before, '' if unknown (then recorded cancelled
 * when `unsent` says where it would have gone).
 */
export async function runTaskCancel(
  client: RedisClient,
  keys: RedisKeys,
  taskId: string,
  nowMs: number,
  unsent?: UnsentTask,
): Promise<string> {
  const record = unsent === undefined ? ['', '', ''] : [unsent.channel, unsent.retentionMs, taskId]
  return (await SCRIPTS.taskCancel.run(client, [keys.taskState(taskId), keys.flowOutbox], [nowMs, ...record])) as string
}

/** Pairs of tag and score, as task-settle.lua returns them and ZRANGEBYSCORE ... WITHSCORES reads them. */
export function outboxEntries(flat: readonly (Buffer | string)[]): FlowOutboxEntry[] {
  const entries: FlowOutboxEntry[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    entries.push({ tag: String(flat[i]), score: String(flat[i + 1]) })
  }
  return entries
}
