/**
 * The fan-out publisher, a process apart from the servers: on `publish` it sends `messages` broadcasts one after
 * another, each carrying its sequence number and send time, the way BENCH_SYSTEM's users would (broadcasters.ts).
 * Configured by BENCH_SYSTEM, BENCH_REDIS_URL, BENCH_PREFIX and BENCH_GROUP.
 */
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
}

const broadcaster = await makeBroadcaster(requireEnv('BENCH_SYSTEM') as SystemName | VariantName, {
  redisUrl: requireEnv('BENCH_REDIS_URL'),
  prefix: requireEnv('BENCH_PREFIX'),
  group: requireEnv('BENCH_GROUP'),
})

onParentMessage(async (message) => {
  if (message.kind !== 'publish') return
  const { messages, intervalMs } = message as PublishRequest
  const startAt = nowMs()
  for (let seq = 0; seq < messages; seq++) {
    const wait = startAt + seq * intervalMs - nowMs()
    if (wait > 0) await delay(wait)
    await broadcaster.publish(seq)
  }
  const done: Published = { kind: 'published', startAt, endAt: nowMs() }
  sendToParent(done)
})
process.once('SIGTERM', () => {
  void broadcaster.close().finally(() => process.exit(0))
})
sendToParent({ kind: 'ready' })
