import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { LoadGenerators } from '../../bench/harness/load-generators.js'
import { startBenchRedis } from '../../bench/harness/redis.js'
import { countRedisCommands } from '../../bench/harness/redis-commands.js'
import { SYSTEMS, switchyardOnCluster } from '../../bench/systems/systems.js'
import type { BenchContext } from '../../bench/workloads/context.js'
import { runEcho } from '../../bench/workloads/echo.js'
import { runFanout } from '../../bench/workloads/fanout.js'
import { runHistory } from '../../bench/workloads/history.js'
import { runIdleWorkers } from '../../bench/workloads/idle-workers.js'
import { runPresence } from '../../bench/workloads/presence.js'
import { ensureDjangoChannels } from '../setup/django.js'
import type { RunningRedis } from '../setup/provision-redis.js'

let redis: RunningRedis
let generators: LoadGenerators
let context: BenchContext

beforeAll(async () => {
  // Django Channels' start() provisions it too, but a fresh machine runs apt-get here, under this hook's timeout.
  await ensureDjangoChannels()
  redis = await startBenchRedis()
  generators = LoadGenerators.start(1)
  context = { redisUrl: redis.url, redisPid: redis.pid, generators, progress: () => undefined }
}, 600_000)

afterAll(async () => {
  await generators.close()
  await redis.stop()
})

// The harness's smallest run: proves the processes, IPC, both wires and the counting work, measures nothing.
// Bare ws is left out: it speaks the JSON wire Switchyard and Django use, and `npm run bench -- --quick` runs it.
describe.each([SYSTEMS.switchyard, SYSTEMS.socketio, SYSTEMS.django])('bench harness smoke run on $name', (system) => {
  it('echoes every round trip and counts it', async () => {
    const result = await runEcho(context, system, { connections: 2, roundTrips: 5 })
    expect(result).toMatchObject({ workload: 'echo', system: system.name, count: 10, lost: 0, duplicated: 0 })
    expect(result.perSecond).toBeGreaterThan(0)
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms)
    // Node servers report µs over IPC; Django's /proc figure ticks in 10 ms, more than these 10 round trips take.
    if (system.reportsHeap) expect(result.serverCpuMs).toBeGreaterThan(0)
    else expect(result.serverCpuMs).toBeGreaterThanOrEqual(0)
  }, 15_000)

  it('delivers every fan-out message to every client exactly once', async () => {
    // A longer warm-up than the measured run: the clients count the measured run's 5 from zero after it.
    const result = await runFanout(context, system, { clients: 5, messages: 5, warmupMessages: 8, idleMs: 2_000 })
    expect(result).toMatchObject({ workload: 'fanout', count: 25, lost: 0, duplicated: 0, unit: 'deliveries' })
    expect(result.p50Ms).toBeGreaterThan(0)
  }, 15_000)
})

describe('Switchyard on a Redis Cluster (the servers row)', () => {
  it('runs the servers and the publisher on the cluster, every delivery made', async () => {
    // The shared test cluster; its nodes' CPU is not read here (no pids), so the Redis CPU figure is left unchecked.
    const system = switchyardOnCluster({ urls: inject('clusterUrls'), pids: [] })
    // The run's own Redis refuses connections: the cluster alone can have carried the messages.
    const offRedis: BenchContext = { ...context, redisUrl: 'redis://127.0.0.1:1' }
    const result = await runFanout(offRedis, system, { clients: 4, messages: 5, idleMs: 2_000 })
    expect(result).toMatchObject({ system: 'switchyard-cluster', count: 20, lost: 0, duplicated: 0 })
    // A groupSend on a cluster: the group shard's script, plus a delivery per other shard holding a process queue.
    expect(result.publisherCommandsPerMessage).toBeGreaterThanOrEqual(1)
  }, 30_000)
})

describe('idle workers bench', () => {
  it('counts what clients send, a script call once, whatever the script runs', async () => {
    const own = await startBenchRedis()
    const client = new Redis(own.url)
    try {
      const lua = "redis.call('set', KEYS[1], ARGV[1]); return redis.call('get', KEYS[1])"
      const sha = String(await client.script('LOAD', lua))
      const during = async (): Promise<void> => {
        for (let i = 0; i < 3; i++) await client.evalsha(sha, 1, 'k', String(i))
        await client.del('k')
      }
      const count = await countRedisCommands(own.url, during, new Map([[sha, 'set-get']]))
      expect(count.byCommand).toEqual([
        { command: 'evalsha set-get', calls: 3 },
        { command: 'del', calls: 1 },
      ])
      expect(count).toMatchObject({ total: 4, scriptCommands: 6 })
      expect(count.windowMs).toBeGreaterThan(0)
    } finally {
      client.disconnect()
      await own.stop()
    }
  }, 15_000)

  it('runs idle RetryingConsumer channels in a worker process and counts their commands', async () => {
    const result = await runIdleWorkers(context, { channels: 4, processes: 1, settleMs: 300, windowMs: 1_000 })
    expect(result).toMatchObject({ channels: 4, processes: 1 })
    expect(result.windowMs).toBeGreaterThanOrEqual(990)
    // A live layer always talks to Redis within a second (its delayed-message mover, if nothing else).
    expect(result.commands).toBeGreaterThan(0)
    expect(result.byCommand.reduce((sum, entry) => sum + entry.calls, 0)).toBe(result.commands)
    expect(result.commandsPerChannelPerSecond).toBeCloseTo((result.commands * 1_000) / result.windowMs / 4)
  }, 30_000)
})

describe('history bench', () => {
  it('compares fan-out with history off and on, reads a full history in Redis and times recoveries', async () => {
    const result = await runHistory(context, {
      fanout: [{ clients: 4, messages: 5, idleMs: 2_000 }],
      repeats: 1,
      memoryGroups: 2,
      textBytes: 100,
      recoveries: 2,
    })
    const [row] = result.fanout
    expect(row?.off).toMatchObject({ system: 'switchyard', count: 20, lost: 0, duplicated: 0 })
    expect(row?.on).toMatchObject({ system: 'switchyard-history', count: 20, lost: 0, duplicated: 0 })
    expect(row?.cpuRatio).toBeCloseTo(row!.on.cpuUsPerUnit / row!.off.cpuUsPerUnit)
    // Every delivery is at least part of a write to its client: some write system calls were counted.
    expect(row?.on.writeSyscallsPerUnit).toBeGreaterThan(0)
    expect(row?.on.publishMs).toBeGreaterThan(0)
    // 100 kept messages of 100 B of text each: the messages key alone holds more than 100 x 100 bytes.
    expect(result.memory.keys.map((k) => k.role)).toEqual([
      'history (messages)',
      'position',
      'channels_redis group (proxy member)',
    ])
    expect(result.memory.keys[0]!.bytes).toBeGreaterThan(100 * 100)
    expect(result.memory.storedMessageBytes).toBeGreaterThan(100)
    // used_memory's delta is left unchecked: over 2 groups, buffers Redis frees in between outweigh them.
    expect(Number.isFinite(result.memory.usedMemoryBytesPerGroup)).toBe(true)
    expect(result.recovery).toMatchObject({ messages: 100, recoveries: 2 })
    expect(result.recovery.p50Ms).toBeGreaterThanOrEqual(result.recovery.groupAddP50Ms)
  }, 60_000)
})

describe('presence bench', () => {
  it('fills a presence list, times its listing and reads what it costs Redis', async () => {
    const result = await runPresence(context, { members: 20, lists: 3 })
    expect(result).toMatchObject({ members: 20, lists: 3 })
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms)
    // Every list runs one script in Redis, which takes part of the time the list call takes.
    expect(result.scriptP50Ms).toBeGreaterThan(0)
    expect(result.scriptP50Ms).toBeLessThan(result.p50Ms)
    expect(result.keys.map((k) => k.role)).toEqual(['presence list', "the process's presence groups"])
    // Each entry keeps at least its info and its channel name.
    expect(result.keys[0]!.bytes).toBeGreaterThan(20 * result.infoBytes)
    expect(result.joinsPerSecond).toBeGreaterThan(0)
  }, 60_000)
})
