/**
 * Group presence (issue 16): on a redis-server of its own, presence-probe.ts (the built package) enters N channels
 * in one group's presence list, then times `layer.presence.list` of that group (p50/p99) and, from SLOWLOG, how
 * long each list's script held Redis; the Redis memory the list costs is INFO `used_memory` after minus before, and
 * `MEMORY USAGE` of its keys.
 */
import { Redis } from 'ioredis'

import { RedisKeys } from '../../src/layers/redis/keys.js'
import { nextMessage, sendTo, stopChild } from '../harness/ipc.js'
import { startBenchRedis } from '../harness/redis.js'
import { keyMemory, usedMemory } from '../harness/redis-memory.js'
import type { PresenceResult } from '../harness/result.js'
import { spawnChild } from '../harness/spawn-child.js'
import { summarize } from '../harness/stats.js'
import type { Filled, FillRequest, Listed, ListRequest } from '../presence/presence-probe.js'
import type { BenchContext } from './context.js'

const PROBE = new URL('../presence/presence-probe.ts', import.meta.url)
const GROUP = 'bench.room'

export interface PresenceParams {
  readonly members: number
  /** Measured `list` calls, after a few unmeasured ones. */
  readonly lists: number
}

/** Logs every command from now on, so the list calls' script time can be read back (`scriptMicros`). */
async function logEveryCommand(redis: Redis): Promise<void> {
  await redis.config('SET', 'slowlog-log-slower-than', '0')
  await redis.config('SET', 'slowlog-max-len', '4096')
  await redis.slowlog('RESET')
}

/** The durations (µs) of logged commands naming `key` (the list script gets the presence hash as KEYS[1]). */
async function scriptMicros(redis: Redis, key: string): Promise<number[]> {
  const entries = (await redis.slowlog('GET', '4096')) as [number, number, number, string[]][]
  return entries.filter(([, , , args]) => args.includes(key)).map(([, , micros]) => micros)
}

async function fill(probe: ReturnType<typeof spawnChild>, group: string, members: number): Promise<Filled> {
  const filled = nextMessage<Filled>(probe, 'presence.filled', 600_000)
  await sendTo(probe, { kind: 'presence.fill', group, members } satisfies FillRequest)
  return filled
}

export async function runPresence(context: BenchContext, params: PresenceParams): Promise<PresenceResult> {
  const say = (line: string): void => {
    context.progress(`presence, ${params.members} members: ${line}`)
  }
  say('starting a redis-server of its own')
  const own = await startBenchRedis()
  const prefix = `benchpresence${process.pid}`
  const keys = new RedisKeys(prefix)
  const redis = new Redis(own.url)
  const probe = spawnChild(PROBE, { BENCH_REDIS_URL: own.url, BENCH_PREFIX: prefix })
  try {
    await nextMessage(probe, 'ready', 30_000)
    await fill(probe, 'bench.warm', 1) // scripts loaded and the owner-presence set made before the first reading
    const before = await usedMemory(redis)
    const filled = await fill(probe, GROUP, params.members)
    const after = await usedMemory(redis)
    say(`joined in ${Math.round(filled.joinMs)} ms; timing ${params.lists} lists`)
    const listed = nextMessage<Listed>(probe, 'presence.listed', 600_000)
    const request: ListRequest = {
      kind: 'presence.list',
      group: GROUP,
      members: params.members,
      repeats: params.lists,
      warmUp: Math.min(5, params.lists),
    }
    await logEveryCommand(redis)
    await sendTo(probe, request)
    const { listMs } = await listed
    const script = summarize(await scriptMicros(redis, keys.presence(GROUP)))
    const result: PresenceResult = {
      members: params.members,
      infoBytes: filled.infoBytes,
      lists: listMs.length,
      ...summarize(listMs),
      scriptP50Ms: script.p50Ms / 1_000,
      scriptP99Ms: script.p99Ms / 1_000,
      joinsPerSecond: (params.members * 1_000) / filled.joinMs,
      usedMemoryBytesPerMember: (after - before) / params.members,
      keys: await Promise.all([
        keyMemory(redis, 'presence list', keys.presence(GROUP)),
        keyMemory(redis, "the process's presence groups", keys.ownerPresence(filled.sampleChannel)),
      ]),
    }
    say(`list p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`)
    say(`its script in Redis p50 ${result.scriptP50Ms.toFixed(2)} ms, p99 ${result.scriptP99Ms.toFixed(2)} ms`)
    return result
  } finally {
    await stopChild(probe)
    redis.disconnect()
    await own.stop()
  }
}
