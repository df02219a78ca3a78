/**
 * How each system's fan-out publisher broadcasts one message `{ seq, sentAt }` to the group, each the way that
 * system's users would: Switchyard through the layer (`groupSend`), bare ws through PUBLISH, Socket.IO through
 * @socket.io/redis-emitter, Django Channels through its own channel layer (`group_send`, in Python).
 * publisher.ts drives them and owns the pacing.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

import { Emitter } from '@socket.io/redis-emitter'
import { Redis } from 'ioredis'

import { RedisChannelLayer } from 'switchyard-channels'
import { DEBIAN_PYTHON } from '../../test/setup/python-packages.js'
import { nowMs } from '../harness/ipc.js'
import { DJANGO_DIR, djangoProcessEnv } from './django-server.js'
import { historyOption, layerServers } from './env.js'
import type { SystemName, VariantName } from './systems.js'

/** Where broadcasts go: the run's Redis, its key prefix and the fan-out group (or room). */
export interface BroadcastTarget {
  readonly redisUrl: string
  readonly prefix: string
  readonly group: string
}

export interface Broadcaster {
  /** Resolves once the broadcast `seq` was accepted (by Redis, or by the system's own publishing call). */
  publish(seq: number): Promise<void>
  close(): Promise<void>
}

/**
 * Switchyard's `groupSend`; for the `switchyard-history` variant, to a group that keeps a history, and for
 * `switchyard-cluster` through a layer on the Redis Cluster (env.ts).
 */
async function switchyardBroadcaster({ redisUrl, prefix, group }: BroadcastTarget): Promise<Broadcaster> {
  const layer = new RedisChannelLayer({ ...layerServers(redisUrl), prefix, history: historyOption(group) })
  await layer.ready()
  return {
    publish: (seq) => layer.groupSend(group, { type: 'bench.message', seq, sentAt: nowMs() }),
    close: () => layer.close(),
  }
}

function wsBroadcaster({ redisUrl, prefix, group }: BroadcastTarget): Broadcaster {
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

function socketIoBroadcaster({ redisUrl, prefix, group }: BroadcastTarget): Broadcaster {
  const redis = new Redis(redisUrl)
  // The key must be the adapter's (socketio-server.ts), so the servers' pattern subscription sees the broadcasts.
  const emitter = new Emitter(redis, { key: prefix })
  return {
    publish: async (seq) => {
      // emit() does not hand back its PUBLISH; one connection answers in order, so this PING's reply means the
      // PUBLISH before it was accepted. The same one round trip per broadcast the other publishers wait for.
      emitter.to(group).emit('bench', { seq, sentAt: nowMs() })
      await redis.ping()
    },
    close: async () => {
      await redis.quit()
    },
  }
}

/** Runs bench_publisher.py and speaks its line protocol: `<seq>` in, `ok` out. */
async function djangoBroadcaster({ redisUrl, prefix, group }: BroadcastTarget): Promise<Broadcaster> {
  const python = spawn(DEBIAN_PYTHON, [`${DJANGO_DIR}bench_publisher.py`], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: djangoProcessEnv({ BENCH_REDIS_URL: redisUrl, BENCH_PREFIX: prefix, BENCH_GROUP: group }),
  })
  const lines = createInterface({ input: python.stdout })[Symbol.asyncIterator]()
  const expectLine = async (expected: string, waitingFor: string): Promise<void> => {
    const line = await lines.next()
    if (line.done === true) throw new Error(`bench_publisher.py exited before ${waitingFor}`)
    const value: string = line.value
    if (value !== expected) throw new Error(`bench_publisher.py said ${JSON.stringify(value)}, expected ${expected}`)
  }
  await expectLine('ready', 'it was ready')
  return {
    publish: async (seq) => {
      python.stdin.write(`${seq}\n`)
      await expectLine('ok', `broadcast ${seq} was sent`)
    },
    close: async () => {
      const exited = once(python, 'exit')
      python.stdin.end()
      await exited
    },
  }
}

export async function makeBroadcaster(system: SystemName | VariantName, target: BroadcastTarget): Promise<Broadcaster> {
  switch (system) {
    case 'switchyard':
    case 'switchyard-history':
    case 'switchyard-cluster':
      return switchyardBroadcaster(target)
    case 'ws':
      return wsBroadcaster(target)
    case 'socketio':
      return socketIoBroadcaster(target)
    case 'django':
      return djangoBroadcaster(target)
    default:
      throw new Error(`no broadcaster for system ${JSON.stringify(system)}`)
  }
}
