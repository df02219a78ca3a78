/**
 * The fan-out publisher, a process apart from the servers: on `publish` it sends `messages` broadcasts one after
 * another, each carrying its sequence number and send time, the way BENCH_SYSTEM's users would (broadcasters.ts),
 * and counts the Redis commands its ioredis clients sent for them. Configured by BENCH_SYSTEM, BENCH_REDIS_URL,
 * BENCH_PREFIX and BENCH_GROUP.
 */
import { subscribe } from 'node:diagnostics_channel'
import { setTimeout as delay } from 'node:timers/promises'

import { nowMs, onParentMessage, sendToParent, type IpcMessage } from '../harness/ipc.js'
import { makeBroadcaster } from './broadcasters.js'
import { requireEnv } from './env.js'
import type { SystemName, VariantName } from './systems.js'

/** Asks the publisher to send `messages` broadcasts. */
export interface PublishRequest extends IpcMessage {
  readonly kind: 'publish'
  readonly messages: number
  /** 0: back to back; else broadcast i goes out at start + i x intervalMs. */
  readonly intervalMs: number
}

/** Sent when the last broadcast was accepted. */
export interface Published extends IpcMessage {
  readonly kind: 'published'
  readonly startAt: number
  readonly endAt: number
  /**
   * Commands for the group this process's ioredis clients sent from the first broadcast to the last one accepted (a
   * script call or a pipelined command counts once; see `sent` below); 0 when it broadcasts otherwise (Django's
   * publisher is Python).
   */
  readonly redisCommands: number
}

const group = requireEnv('BENCH_GROUP')

/** What ioredis says of a command it sends (its tracing context; arguments of most write commands redacted to `?`). */
interface TracedCommand {
  readonly command: string
  readonly args: readonly string[]
}

/**
 * ioredis traces every command it sends, to any node, on the tracing channel `ioredis:command` (its start events).
 * Counted are those that name the group: Switchyard's scripts (the group's keys, or a copy of the message, which
 * carries its group), PUBLISH to the group's channel or room; not background commands (the layer's heartbeats and
 * delayed-message movers, which a cluster layer runs on every shard) nor the Socket.IO publisher's PING.
 */
const sent = { commands: 0 }
subscribe('tracing:ioredis:command:start', (message) => {
  const { args } = message as TracedCommand
  if (args.some((arg) => arg.includes(group))) sent.commands++
})

const broadcaster = await makeBroadcaster(requireEnv('BENCH_SYSTEM') as SystemName | VariantName, {
  redisUrl: requireEnv('BENCH_REDIS_URL'),
  prefix: requireEnv('BENCH_PREFIX'),
  group: requireEnv('BENCH_GROUP'),
})

onParentMessage(async (message) => {
  if (message.kind !== 'publish') return
  const { messages, intervalMs } = message as PublishRequest
  const startAt = nowMs()
  const commandsBefore = sent.commands
  for (let seq = 0; seq < messages; seq++) {
    const wait = startAt + seq * intervalMs - nowMs()
    if (wait > 0) await delay(wait)
    await broadcaster.publish(seq)
  }
  const done: Published = { kind: 'published', startAt, endAt: nowMs(), redisCommands: sent.commands - commandsBefore }
  sendToParent(done)
})
process.once('SIGTERM', () => {
  void broadcaster.close().finally(() => process.exit(0))
})
sendToParent({ kind: 'ready' })
