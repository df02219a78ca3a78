/**
 * `npx tsx bench/tools/wake-cost.ts [--rounds 3] [--wakes 200] [--interval-ms 100] [--modes pop,subscribe,raw-pop]`:
 * the receiving process's CPU time per message when one message arrives every `interval-ms`, for the ways
 * `wake-receiver.ts` waits: a blocking pop issued again after every reply through ioredis (`pop`), a pub/sub
 * subscriber (`subscribe`, bare `ws` + pub/sub's reader), the same pop written as raw RESP without a client library
 * (`raw-pop`), and the built package's whole reading path (`layer`: a RedisChannelLayer member of a group, each
 * message a `groupSend`). Rounds alternate the modes. A paced group send wakes each server once per message, so
 * what a mode costs above `subscribe` is paid once per broadcast, before any member. Run `npm run build` first (the
 * receiver is bundled).
 */
import { parseArgs } from 'node:util'

import { Redis } from 'ioredis'
import { RedisChannelLayer } from 'switchyard-channels'

import { nextMessage, stopChild, type IpcMessage } from '../harness/ipc.js'
import { startBenchRedis } from '../harness/redis.js'
import { median } from '../harness/stats.js'
import { spawnChild } from '../harness/spawn-child.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    wakes: { type: 'string', default: '200' },
    'interval-ms': { type: 'string', default: '100' },
    modes: { type: 'string', default: 'pop,subscribe,raw-pop' },
  },
})
const rounds = Number(values.rounds)
const wakes = Number(values.wakes)
const intervalMs = Number(values['interval-ms'])
const MODES = values.modes.split(',')
const WARM = 50
const RECEIVER = new URL('wake-receiver.ts', import.meta.url)

interface WakeDone extends IpcMessage {
  readonly kind: 'wake.done'
  readonly userUs: number
  readonly systemUs: number
}

const redis = await startBenchRedis()
const publisher = new Redis(redis.url)
const results = new Map<string, number[]>(MODES.map((mode) => [mode, []]))
try {
  for (let round = 0; round < rounds; round++) {
    for (const mode of round % 2 === 0 ? MODES : [...MODES].reverse()) {
      const key = `wake-cost:${process.pid}:${round}:${mode}`
      const child = spawnChild(RECEIVER, {
        BENCH_REDIS_URL: redis.url,
        BENCH_WAKE_KEY: key,
        BENCH_WAKE_MODE: mode,
        BENCH_WAKE_WARM: String(WARM),
        BENCH_WAKE_COUNT: String(wakes),
      })
      // `layer` mode's messages are group sends through a layer on the receiver's prefix, as a paced broadcast's are.
      const sender = mode === 'layer' ? new RedisChannelLayer({ hosts: [redis.url], prefix: key }) : undefined
      try {
        await nextMessage(child, 'wake.started', 30_000)
        // Its first read is in flight once it is settled: a message sent before would be taken by no one.
        await new Promise((resolve) => setTimeout(resolve, 500))
        const done = nextMessage<WakeDone>(child, 'wake.done', (WARM + wakes) * intervalMs + 30_000)
        const state = { finished: false }
        const finish = (): void => {
          state.finished = true
        }
        done.then(finish, finish)
        for (let seq = 0; !state.finished; seq++) {
          const due = Date.now() + intervalMs
          const message = { type: 'bench.message', seq, sentAt: Date.now() }
          if (sender !== undefined) await sender.groupSend('wake', message)
          else if (mode === 'subscribe') await publisher.publish(key, JSON.stringify(message))
          else await publisher.zadd(key, Date.now() / 1000, JSON.stringify(message))
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())))
        }
        const { userUs, systemUs } = await done
        results.get(mode)?.push(userUs + systemUs)
        console.log(
          `round ${round + 1} ${mode.padEnd(9)} ${(userUs + systemUs).toFixed(0)} µs CPU per wake ` +
            `(user ${userUs.toFixed(0)}, system ${systemUs.toFixed(0)})`,
        )
      } finally {
        await stopChild(child)
        await publisher.del(key)
        await sender?.flush()
        await sender?.close()
      }
    }
  }
  for (const [mode, cpu] of results) {
    console.log(`${mode.padEnd(9)} median ${cpu.length > 0 ? median(cpu).toFixed(0) : '-'} µs per wake`)
  }
} finally {
  publisher.disconnect()
  await redis.stop()
}
