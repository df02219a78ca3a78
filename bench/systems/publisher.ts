/**
 * The fan-out publisher, a process apart from the server: on `publish` it sends `messages` broadcasts one after
 * another, each carrying its sequence number and send time. Switchyard goes through the layer (`groupSend`); the
 * bare ws reference through PUBLISH. Configured by BENCH_SYSTEM, BENCH_REDIS_URL, BENCH_PREFIX and BENCH_GROUP.
 */
import { setTimeout as delay } from 'node:timers/promises'

import { Redis } from 'ioredis'

import { RedisChannelLayer } from '../../src/index.js'
import { nowMs, onParentMessage, sendToParent, type IpcMessage } from '../harness/ipc.js'
import { requireEnv } from './env.js'

/** Asks the publisher to send `messages` broadcasts. */
export interface PublishRequest extends IpcMessage {
  readonly kind: 'publish'
  readonly messages: number
  /** 0: back to back; else broadcast i goes out at start + i x intervalMs. */
  readonly intervalMs: number
}

/** Sent when the last broadcast was accepted by Redis. */
export interface Published extends IpcMessage {
  readonly kind: 'published'
  readonly startAt: number
  readonly endAt: number
}

const system = requireEnv('BENCH_SYSTEM')
const redisUrl = requireEnv('BENCH_REDIS_URL')
const prefix = requireEnv('BENCH_PREFIX')
const group = requireEnv('BENCH_GROUP')

type PublishOne = (seq: number) => Promise<void>

async function makePublisher(): Promise<{ publish: PublishOne; close: () => Promise<void> }> {
  if (system === 'switchyard') {
    const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
    await layer.ready()
    return {
      publish: (seq) => layer.groupSend(group, { type: 'bench.message', seq, sentAt: nowMs() }),
      close: () => layer.close(),
    }
  }
  const redis = new Redis(redisUrl)
  const channel = `${prefix}:${group}`
  return {
    publish: async (seq) => {
      await redis.publish(channel, JSON.stringify({ seq, sentAt: nowMs() }))
    },
    close: async () => {
      await redis.quit()
    },
  }
}

const publisher = await makePublisher()
onParentMessage(async (message) => {
  if (message.kind !== 'publish') return
  const { messages, intervalMs } = message as PublishRequest
  const startAt = nowMs()
  for (let seq = 0; seq < messages; seq++) {
    const wait = startAt + seq * intervalMs - nowMs()
    if (wait > 0) await delay(wait)
    await publisher.publish(seq)
  }
  const done: Published = { kind: 'published', startAt, endAt: nowMs() }
  sendToParent(done)
})
process.once('SIGTERM', () => {
  void publisher.close().finally(() => process.exit(0))
})
sendToParent({ kind: 'ready' })
