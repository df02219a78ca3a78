/**
 * What only the Redis layer meets: messages written by other senders (channels_redis' format, as Django writes
 * them) that are malformed or undecodable, and the TTL channels_redis puts on every queue it writes.
 */
import { randomBytes } from 'node:crypto'

import { Redis } from 'ioredis'
import { afterEach, describe, expect, inject, it } from 'vitest'

import { RetryingConsumer } from '../../consumers/retrying-consumer.js'
import { encodeMsgpack } from '../../src/layers/redis/msgpack-codec.js'
import { RedisChannelLayer } from '../../src/layers/redis/redis-layer.js'
import { ChannelNameRouter } from '../../src/routing/channel-router.js'
import { runWorker, type WorkerHandle } from '../../src/worker/worker.js'
import { sleep, waitFor } from '../support/wait.js'

const redisUrl = inject('redisUrl')
const open: { layers: RedisChannelLayer[]; workers: WorkerHandle[]; clients: Redis[] } = {
  layers: [],
  workers: [],
  clients: [],
}

afterEach(async () => {
  for (const worker of open.workers.splice(0)) await worker.stop()
  for (const layer of open.layers.splice(0)) {
    await layer.flush()
    await layer.close()
  }
  for (const client of open.clients.splice(0)) client.disconnect()
})

let runs = 0
class Jobs extends RetryingConsumer {
  static override retry = { maxRetries: 5, initialDelayMs: 10 }
  async job_run(): Promise<void> {
    runs++
  }
}

function setUp(): { prefix: string; layer: RedisChannelLayer; raw: Redis } {
  const prefix = `nr${randomBytes(5).toString('hex')}`
  const layer = new RedisChannelLayer({ hosts: [redisUrl], prefix })
  const raw = new Redis(redisUrl)
  open.layers.push(layer)
  open.clients.push(raw)
  return { prefix, layer, raw }
}

function serve(layer: RedisChannelLayer): void {
  open.workers.push(
    runWorker({
      application: ChannelNameRouter({ jobs: Jobs.asApp() }),
      layer,
      channels: ['jobs'],
      shutdownTimeoutMs: 500,
    }),
  )
}

/** What channels_redis' send does: ZADD of 12 random bytes + msgpack, scored by the time, then EXPIRE. */
async function djangoSend(raw: Redis, key: string, body: Buffer, expirySeconds = 60): Promise<void> {
  await raw.zadd(key, Date.now() / 1000, Buffer.concat([randomBytes(12), body]))
  await raw.expire(key, expirySeconds)
}

describe('tasks from other senders on Redis', () => {
  it('kills malformed tasks at once with a coded error, and keeps an undecodable one with its task id', async () => {
    runs = 0
    const { prefix, layer, raw } = setUp()
    serve(layer)
    await djangoSend(raw, `${prefix}jobs`, encodeMsgpack({ userId: 42 }))
    await djangoSend(raw, `${prefix}jobs`, encodeMsgpack({ type: 42 }))
    await djangoSend(raw, `${prefix}jobs`, Buffer.from([0xc1, 0xc1, 0xc1])) // 0xc1 is never valid msgpack
    await djangoSend(raw, `${prefix}jobs`, encodeMsgpack({ type: 'job.run' }))
    await waitFor('three dead letters', async () => (await layer.tasks.listDeadLetters('jobs')).length === 3)
    await waitFor('the good task', () => runs === 1)
    const letters = await layer.tasks.listDeadLetters('jobs')
    const errors = letters.map((letter) => letter.error)
    const invalid = 'InvalidMessageTypeError (SWY_INVALID_MESSAGE_TYPE): Message has no type: its `type` is'
    expect(errors.filter((error) => error.startsWith(`${invalid} number`))).toHaveLength(1)
    expect(errors.filter((error) => error.startsWith(`${invalid} undefined`))).toHaveLength(1)
    expect(errors.filter((error) => /decode/i.test(error))).toHaveLength(1)
    expect(letters.every((letter) => /^[0-9a-f]{32}$/.test(letter.taskId))).toBe(true)
    // Malformed tasks ran no attempt past the first: no retries used up.
    expect(letters.filter((letter) => letter.attempts > 1)).toEqual([])
  })

  it("keeps a busy task channel's backlog past the TTL channels_redis puts on it, and never sets one itself", async () => {
    const { prefix, layer, raw } = setUp()
    const ran: number[] = []
    class Slow extends RetryingConsumer {
      static override concurrency = 1
      // Renewal (a third of this) runs every 100 ms: it removes the TTL while the worker claims nothing.
      static override visibilityMs = 300
      async job_run(message: { type: 'job.run'; n: number }): Promise<void> {
        await new Promise((resolve) => setTimeout(resolve, message.n === 0 ? 1_500 : 10))
        ran.push(message.n)
      }
    }
    open.workers.push(
      runWorker({
        application: ChannelNameRouter({ jobs: Slow.asApp() }),
        layer,
        channels: ['jobs'],
        shutdownTimeoutMs: 500,
      }),
    )
    await waitFor(
      'the channel to be marked',
      async () => (await raw.exists(`${prefix}:switchyard:task-channel:jobs`)) === 1,
    )
    await layer.send('jobs', { type: 'job.run', n: 0 })
    await waitFor(
      'the slow task to start',
      async () => (await layer.tasks.listDeadLetters('jobs')).length === 0 && (await raw.zcard(`${prefix}jobs`)) === 0,
    )
    await layer.send('jobs', { type: 'job.run', n: 1 })
    expect(await raw.ttl(`${prefix}jobs`)).toBe(-1) // our send: no TTL on a task channel
    // A later millisecond: in the same one, both would have one score, and Redis orders a tie by the members' bytes
    // (random prefixes), which made the order of 1 and 2 a coin toss in one CI run.
    await sleep(5)
    // Django's send with a 1 s expiry: the backlog waits 1.5 s behind the slow task.
    await djangoSend(raw, `${prefix}jobs`, encodeMsgpack({ type: 'job.run', n: 2 }), 1)
    await waitFor('every task', () => ran.length === 3, { timeoutMs: 5_000 })
    expect(ran).toEqual([0, 1, 2])
  })
})
