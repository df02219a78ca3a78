import { assertChannelName } from '../../names.js'
import { resolveRateLimit, type RateLimit } from '../../../tasks/rate-limit.js'
import type { RedisShard } from '../redis-shard.js'
import {
  runTaskDeclare,
  runTaskExtend,
  runTaskRequeue,
  runTaskRateWait,
  runTaskSettle,
  taskSettleReply,
  type TaskRequeueArgs,
  type TaskSettleReply,
} from '../scripts/task-scripts.js'
import { runTaskProgress } from '../scripts/task-progress-script.js'
import type {
  ClaimedTask,
  TaskFailure,
  TaskSettlement,
  TaskState,
  TaskStatus,
  TaskStore,
  TaskStoreOptions,
} from '../../../tasks/task-store.js'
import { packFields, unpackFields } from './packed-fields.js'
import { callReplicated, ReplicaShortfallError } from '../replica-wait.js'
import { byChannel, ClaimTokens, plainMsgpackPrefix, settlementFields, toBuffer } from './redis-claims.js'
import { cancelledAmong, cancelTask } from './redis-cancellation.js'
import { CancelNotices } from '../../../tasks/task-cancellation.js'
import { startClaims } from './redis-claim-start.js'
import { RedisDeadLetters } from './redis-dead-letters.js'
import { RedisFlows } from './redis-flows.js'
import { parseTaskState } from './task-state-fields.js'
import { FlowDriver } from '../../../tasks/flows/flow-driver.js'
import { isFlowId } from '../../../tasks/flows/flow-spec.js'
import { RedisProcessRegistry } from './redis-registry.js'
import { RedisSchedules } from './redis-schedules.js'
import { Schedules } from '../../../tasks/schedules/schedule-store.js'
import {
  assertClaimArguments,
  assertSettleArguments,
  assertVisibilityMs,
  recoverStalledGraceMs,
} from '../../../tasks/task-arguments.js'
import { TaskChannels } from '../../../tasks/task-channels.js'
import { prepareProgress, progressGroup, type TaskEvent } from '../../../tasks/task-progress.js'
import { TaskStoreParts } from '../../../tasks/task-store-parts.js'
import { TaskWakeups, type WaitForTasksOptions } from '../../../tasks/task-wakeups.js'
import { TaskEventBatcher } from './task-event-batcher.js'
import type { RedisTaskStoreContext } from './redis-task-store-context.js'

/**
 * At-least-once tasks on Redis: the channel's queue stays channels_redis' sorted set (so Django's `send` feeds
 * it), and every state change is one Lua script (`task-*.lua`), so a worker killed at any instant leaves each
 * message either queued, in flight (recovered after its deadline) or done.
 */
export class RedisTaskStore extends TaskStoreParts implements TaskStore {
  /** taskExpiryMs in seconds for task-settle.lua, or '' for none. */
  private readonly taskExpirySeconds: string
  private readonly tokens = new ClaimTokens()
  private readonly taskChannels: TaskChannels
  private readonly wakeups = new TaskWakeups()
  private readonly cancelNotices = new CancelNotices()
  /** Channels whose workers in this process are idle: their wake markers are in the blocking read. */
  private readonly watched = new Set<string>()

  /** The random prefix of plain msgpack payloads, whose task ids task-settle.lua reads itself; else -1. */
  private readonly plainPrefixBytes: number
  protected readonly deadLetters: RedisDeadLetters
  protected readonly registry: RedisProcessRegistry
  protected readonly schedules: Schedules
  private readonly flowRecords: RedisFlows
  protected readonly flows: FlowDriver
  private readonly events: TaskEventBatcher

  constructor(private readonly ctx: RedisTaskStoreContext) {
    super()
    const limit = ctx.options.taskExpiryMs
    this.taskExpirySeconds = limit === undefined ? '' : String(limit / 1000)
    this.plainPrefixBytes = plainMsgpackPrefix(ctx.serializer)
    this.taskChannels = new TaskChannels(ctx.options.taskChannels)
    this.deadLetters = new RedisDeadLetters(ctx)
    this.registry = new RedisProcessRegistry(ctx)
    this.schedules = new Schedules(new RedisSchedules(ctx), (operation) => {
      ctx.assertOpen(operation)
    })
    this.flowRecords = new RedisFlows(ctx)
    this.flows = new FlowDriver(this.flowRecords, ctx.log, (operation) => {
      ctx.assertOpen(operation)
    })
    this.events = new TaskEventBatcher(ctx)
  }

  get options(): TaskStoreOptions {
    return this.ctx.options
  }

  async declareTaskChannels(channels: readonly string[]): Promise<void> {
    this.ctx.assertOpen('declare task channels')
    for (const channel of channels) {
      assertChannelName(channel)
      this.taskChannels.declare(channel)
    }
    // For every process on the prefix: their sends to these channels then keep the tasks waiting.
    for (const channel of channels) {
      const shard = this.ctx.shardFor(channel)
      await shard.call((client) => runTaskDeclare(client, shard.keys, channel), { idempotent: true })
    }
  }

  async declareRateLimit(channel: string, limit: RateLimit | undefined): Promise<void> {
    this.ctx.assertOpen('declare a rate limit')
    assertChannelName(channel)
    const resolved = resolveRateLimit(limit)
    const shard = this.ctx.shardFor(channel)
    const key = shard.keys.rateLimit(channel)
    // One key: the last declaration wins (task-settle.lua reads it on every claim).
    await shard.call(
      (client) =>
        resolved === undefined ? client.del(key) : client.hset(key, 'max', resolved.max, 'perMs', resolved.perMs),
      { idempotent: true },
    )
  }

  async rateLimitWaitMs(channel: string): Promise<number> {
    this.ctx.assertOpen('read a rate limit')
    const shard = this.ctx.shardFor(channel)
    return await shard.call((client) => runTaskRateWait(client, shard.keys, channel), { idempotent: true })
  }

  async waitForTasks(channel: string, options: WaitForTasksOptions): Promise<void> {
    this.ctx.assertOpen('wait for tasks')
    // A channel stays watched while its workers are idle (across their fallback polls), so the blocking read's
    // keys change only when a worker turns idle or busy, not on every wait.
    if (!this.watched.has(channel)) {
      this.watched.add(channel)
      this.ctx.onWatchChange()
    }
    await this.wakeups.wait(channel, options)
  }

  /** The wake markers shard `shard`'s blocking read watches: those of this process's idle task channels. */
  wakeKeys(shard: RedisShard): string[] {
    const keys: string[] = []
    for (const channel of this.watched) if (this.ctx.shardFor(channel) === shard) keys.push(shard.keys.wake(channel))
    return keys
  }

  /** The blocking read took `channel`'s wake marker: a sender queued a task there. */
  wake(channel: string): void {
    this.wakeups.notify(channel)
  }

  /** Whether this process knows `channel` carries tasks (its `taskChannels`, or declared by its worker). */
  isTaskChannel(channel: string): boolean {
    return this.taskChannels.has(channel)
  }

  async claim(channel: string, max: number, visibilityMs: number): Promise<ClaimedTask[]> {
    this.ctx.assertOpen('claim tasks')
    assertClaimArguments(channel, max, visibilityMs)
    return this.settle(channel, [], max, visibilityMs)
  }

  async ack(task: ClaimedTask, options: { readonly result?: unknown } = {}): Promise<void> {
    this.ctx.assertOpen('ack a task')
    await this.settle(
      task.channel,
      ['result' in options ? { action: 'ack', task, result: options.result } : { action: 'ack', task }],
      0,
      0,
    )
  }

  async retry(task: ClaimedTask, delayMs: number, failure: TaskFailure): Promise<void> {
    this.ctx.assertOpen('retry a task')
    await this.settle(task.channel, [{ action: 'retry', task, delayMs, failure }], 0, 0)
  }

  async bury(task: ClaimedTask, failure: TaskFailure): Promise<void> {
    this.ctx.assertOpen('bury a task')
    await this.settle(task.channel, [{ action: 'bury', task, failure }], 0, 0)
  }

  async settle(
    channel: string,
    settlements: readonly TaskSettlement[],
    max: number,
    visibilityMs: number,
  ): Promise<ClaimedTask[]> {
    this.ctx.assertOpen('settle tasks')
    assertSettleArguments(channel, settlements, max, visibilityMs)
    const { options } = this.ctx
    const now = Date.now()
    const fields: (string | Buffer)[] = []
    for (const settlement of settlements) {
      const task = settlement.task
      fields.push(settlement.action, task.payload, task.taskId, ...settlementFields(settlement, now))
    }
    const shard = this.ctx.shardFor(channel)
    // A call that only claims is not waited for: a claim a failover loses comes back to the queue (at-least-once).
    const wait = settlements.length > 0 ? this.ctx.waitForReplicas : undefined
    let reply: TaskSettleReply
    try {
      reply = await callReplicated(
        shard,
        wait,
        (client) =>
          runTaskSettle(client, shard.keys, {
            channel,
            nowMs: now,
            taskStateRetentionMs: options.taskStateRetentionMs,
            deadLetterCapacity: options.deadLetterCapacity,
            max,
            claimDeadlineMs: now + visibilityMs,
            taskExpirySeconds: this.taskExpirySeconds,
            claimToken: max > 0 ? this.tokens.next() : '',
            settlements: packFields(fields),
            plainPrefixBytes: this.plainPrefixBytes,
          }),
        // Settling twice is harmless (see task-settle.lua); claiming twice would strand the first call's claims
        // until their deadline, so a call that claims is only resent when it cannot have run.
        { idempotent: max === 0 },
      )
    } catch (error) {
      // It ran, but too few replicas have it: the caller sends the settlements again, and the claims it took go
      // back to the queue now rather than at their deadline.
      if (error instanceof ReplicaShortfallError) await this.giveBack(channel, taskSettleReply(error.reply), now)
      throw error
    }
    const { held, expired, claims, flowSteps } = reply
    settlements.forEach((settlement, i) => {
      if (held[i] === 0 && settlement.action !== 'ack') {
        this.ctx.log.warn(
          { channel, taskId: settlement.task.taskId, action: settlement.action },
          'claim was lost (recovered as stalled); not repeating',
        )
      }
    })
    if (expired > 0) this.ctx.onExpired(expired)
    for (const settlement of settlements) {
      if (settlement.action === 'retry' && settlement.delayMs > 0) this.ctx.onDelayed(now + settlement.delayMs)
    }
    // Before the claims are handed out, so a chain's next step is queued by the time its worker asks again.
    if (flowSteps.length > 0) await this.flowRecords.advance(this.flows, shard, flowSteps)
    if (claims.length === 0) return []
    if (this.watched.delete(channel)) this.ctx.onWatchChange()
    return this.startClaimed(channel, claims, now)
  }

  /** The claims of a settle call whose replica wait fell short, released (a failure is logged: they come back later). */
  private async giveBack(channel: string, { claims }: TaskSettleReply, now: number): Promise<void> {
    if (claims.length === 0) return
    try {
      await this.release(await this.startClaimed(channel, claims, now))
    } catch (err) {
      this.ctx.log.warn(
        { err, channel },
        'could not release the claims of an unreplicated call; back at their deadline',
      )
    }
  }

  /** A settle call's claims (packed), started and handed out as tasks. */
  private startClaimed(channel: string, claims: Buffer, now: number): Promise<ClaimedTask[]> {
    return startClaims(this.ctx, channel, unpackFields(toBuffer(claims)), now, {
      bury: (task, failure) => this.bury(task, failure),
      // Cancelled while queued (task-cancel.lua): never run; the ack only drops the claim (task-settle.lua).
      drop: async (tasks) => {
        await this.settle(
          channel,
          tasks.map((task) => ({ action: 'ack', task })),
          0,
          0,
        )
      },
    })
  }

  async extend(tasks: readonly ClaimedTask[], visibilityMs: number): Promise<void> {
    this.ctx.assertOpen('extend tasks')
    assertVisibilityMs(visibilityMs)
    const deadline = Date.now() + visibilityMs
    for (const [channel, group] of byChannel(tasks)) {
      const claims = group.map((task) => task.payload)
      const shard = this.ctx.shardFor(channel)
      await shard.call((client) => runTaskExtend(client, shard.keys, { channel, deadlineMs: deadline, claims }), {
        idempotent: true,
      })
    }
  }

  async release(tasks: readonly ClaimedTask[]): Promise<void> {
    this.ctx.assertOpen('release tasks')
    for (const [channel, group] of byChannel(tasks)) {
      const claims = group.map((task) => ({ claim: task.payload, taskId: task.taskId }))
      await this.requeue({ channel, nowMs: Date.now(), mode: 'release', claims })
    }
  }

  async recoverStalled(channel: string, graceMs?: number): Promise<number> {
    this.ctx.assertOpen('recover stalled tasks')
    return this.requeue({
      channel,
      nowMs: Date.now(),
      mode: 'stalled',
      graceMs: recoverStalledGraceMs(channel, graceMs),
    })
  }

  async cancel(taskId: string): Promise<TaskStatus | undefined> {
    this.ctx.assertOpen('cancel a task')
    const before = await cancelTask(this.ctx, taskId)
    if (before === 'running') this.cancelNotices.notify(taskId)
    return before !== undefined || !isFlowId(taskId) ? before : this.flows.cancel(taskId)
  }

  watchCancellations(listener: (taskId: string) => void): () => void {
    return this.cancelNotices.watch(listener)
  }

  async cancelledAmong(tasks: readonly ClaimedTask[]): Promise<ClaimedTask[]> {
    this.ctx.assertOpen('check for cancelled tasks')
    return cancelledAmong(this.ctx, tasks)
  }

  async getTaskState(taskId: string): Promise<TaskState | undefined> {
    this.ctx.assertOpen('read a task state')
    // Its channel is not known here: every shard is asked at once, the first to know it answers.
    const found = await Promise.all(
      this.ctx.shards.map(async (shard) =>
        parseTaskState(
          taskId,
          await shard.call((client) => client.hgetall(shard.keys.taskState(taskId)), { idempotent: true }),
        ),
      ),
    )
    for (const state of found) if (state !== undefined) return state
    return isFlowId(taskId) ? this.flows.taskState(taskId) : undefined
  }

  async resumeFlows(): Promise<number> {
    this.ctx.assertOpen('resume flows')
    return this.flowRecords.resume(this.flows)
  }

  progressGroup(taskId: string): string {
    return progressGroup(taskId)
  }

  async reportProgress(task: ClaimedTask, data: unknown): Promise<void> {
    this.ctx.assertOpen('report task progress')
    const { event, json } = prepareProgress(task.taskId, data)
    const shard = this.ctx.shardFor(task.channel)
    if (!(await shard.call((client) => runTaskProgress(client, shard.keys, task.taskId, json)))) return
    await this.ctx.groupSend(progressGroup(task.taskId), event)
  }

  /**
   * Sent only if the progress group has members (or keeps history). Events checked together share the promise
   * returned (see TaskEventBatcher), so it is returned as it is, not wrapped in one per call.
   */
  sendTaskEvent(event: TaskEvent): Promise<void> {
    try {
      this.ctx.assertOpen('send a task event')
    } catch (error) {
      return Promise.reject(error)
    }
    return this.events.send(progressGroup(event.taskId), event)
  }

  /** Deletes dead letters past `deadLetterRetentionMs` on every channel (called by workers now and then). */
  purgeExpiredDeadLetters(): Promise<number> {
    return this.deadLetters.purgeExpired()
  }

  /**
   * The layer closed: idle workers' waits end at once (a wait never rejects; their next call does, with
   * `LayerClosedError`), and no channel is watched any more.
   */
  close(): void {
    this.wakeups.clear()
    this.watched.clear()
  }

  private async requeue(args: TaskRequeueArgs): Promise<number> {
    const shard = this.ctx.shardFor(args.channel)
    return shard.call((client) => runTaskRequeue(client, shard.keys, args))
  }
}
